"""A model folder as one deterministic tar blob, and back.

Packing the same files gives the same bytes (sorted names, zeroed times and owners), so the
same model registered twice has the same digest. Unpacking refuses links, devices and names that
would land outside the target folder.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import IO

from modelward.errors import ArtifactIntegrityError, UnsafePathError
from modelward.paths import check_relative


def pack(folder: Path, out: Path) -> None:
    """Write the files under ``folder`` into the tar file ``out``."""
    base = folder.resolve()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(base.rglob("*"), key=lambda p: p.relative_to(base).as_posix()):
            rel = path.relative_to(base).as_posix()
            if path.is_symlink():
                raise UnsafePathError(
                    f"{rel} is a symlink; models are packed from regular files only"
                )
            info = tar.gettarinfo(str(path), arcname=rel)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            executable = info.isdir() or bool(path.stat().st_mode & 0o111)
            info.mode = 0o755 if executable else 0o644  # keep only the executable bit
            if info.isdir():
                tar.addfile(info)
            elif info.isfile():
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
            else:
                raise UnsafePathError(f"{rel} is not a regular file or folder")


def unpack(blob: IO[bytes], dest: Path) -> None:
    """Extract a packed model into the empty folder ``dest``."""
    try:
        with tarfile.open(fileobj=blob, mode="r:") as tar:
            members = tar.getmembers()
            for member in members:
                check_relative(member.name)
                if not (member.isfile() or member.isdir()):
                    raise UnsafePathError(f"artifact member {member.name!r} is not a regular file")
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, EOFError) as exc:
        raise ArtifactIntegrityError(f"artifact is not a readable model bundle: {exc}") from exc

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from modelward.artifacts.bundle import pack, unpack
from modelward.errors import ArtifactIntegrityError, UnsafePathError


def make_folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "model.bin").write_bytes(b"\x00\x01")
    (root / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return root


def test_pack_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "m")
    pack(folder, tmp_path / "a.tar")
    os.utime(folder / "model.bin", (1, 1))  # times do not matter
    pack(folder, tmp_path / "b.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    with (tmp_path / "a.tar").open("rb") as fh:
        unpack(fh, out)
    assert (out / "sub" / "data.csv").read_text() == "a,b\n1,2\n"


def test_symlinks_are_not_packed(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "m")
    os.symlink("/etc/passwd", folder / "link")
    with pytest.raises(UnsafePathError, match="symlink"):
        pack(folder, tmp_path / "a.tar")


def _tar_with(member: tarfile.TarInfo, data: bytes = b"") -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("name", ["../escape.txt", "/abs.txt", "a/../../x", "%2e%2e/x"])
def test_unpack_refuses_escaping_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePathError):
        unpack(_tar_with(tarfile.TarInfo(name), b"x"), tmp_path)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_unpack_refuses_links(tmp_path: Path) -> None:
    link = tarfile.TarInfo("link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    with pytest.raises(UnsafePathError, match="not a regular file"):
        unpack(_tar_with(link), tmp_path)


def test_unpack_refuses_garbage(tmp_path: Path) -> None:
    with pytest.raises(ArtifactIntegrityError):
        unpack(io.BytesIO(b"not a tar at all" * 100), tmp_path)


def test_the_executable_bit_survives(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "m")
    (folder / "run.sh").write_text("#!/bin/sh\n")
    (folder / "run.sh").chmod(0o700)
    pack(folder, tmp_path / "a.tar")
    out = tmp_path / "out"
    out.mkdir()
    with (tmp_path / "a.tar").open("rb") as fh:
        unpack(fh, out)
    assert (out / "run.sh").stat().st_mode & 0o111 and not (
        out / "model.bin"
    ).stat().st_mode & 0o111

"""Artifacts in a local folder: ``<root>/sha256/<2 hex>/<digest>``, written atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from modelward.artifacts.base import CHUNK, ArtifactStore, StoredBlob, check_digest
from modelward.errors import ArtifactNotFoundError, ArtifactStoreUnavailableError
from modelward.paths import ensure_within


class LocalArtifactStore(ArtifactStore):
    """Content-addressed blobs in a folder."""

    @property
    def _base(self) -> Path:
        return Path(self.root)

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self._base / "sha256" / digest[:2] / digest

    def put_file(self, src: Path) -> StoredBlob:
        tmp_dir = self._base / ".tmp"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        except OSError as exc:
            raise ArtifactStoreUnavailableError(
                f"cannot write to the artifact store {self.root}: {exc.strerror}",
                hint="check MODELWARD_ARTIFACT_ROOT and its permissions",
            ) from exc
        tmp = Path(tmp_name)
        try:
            sha = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    sha.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            final = self._path(digest)
            if final.exists():
                return StoredBlob(digest, size, created=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)  # atomic: readers see all of the blob or none of it
            return StoredBlob(digest, size, created=True)
        finally:
            tmp.unlink(missing_ok=True)

    def _open_raw(self, digest: str) -> IO[bytes]:
        path = self._path(digest)
        try:
            ensure_within(self._base, path)  # a blob replaced by a symlink out of the root
            return path.open("rb")
        except FileNotFoundError:
            raise ArtifactNotFoundError(
                f"artifact {digest} is missing from {self.root}",
                hint="the artifact store was changed outside modelward; restore it from a backup",
            ) from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def delete(self, digest: str) -> None:
        path = self._path(digest)
        path.unlink(missing_ok=True)

    def digests(self) -> Iterator[str]:
        base = self._base / "sha256"
        if base.is_dir():
            for path in sorted(base.glob("*/*")):
                yield path.name

    def clear_tmp(self) -> int:
        """Remove leftovers of interrupted writes; returns how many there were."""
        tmp_dir = self._base / ".tmp"
        count = sum(1 for _ in tmp_dir.iterdir()) if tmp_dir.is_dir() else 0
        shutil.rmtree(tmp_dir, ignore_errors=True)
        return count

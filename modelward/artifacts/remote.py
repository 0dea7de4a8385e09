"""Artifacts on any fsspec filesystem (``s3://bucket/prefix``, ``gs://…``, ``memory://…``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from modelward.artifacts.base import ArtifactStore, StoredBlob, check_digest, file_digest
from modelward.errors import (
    ArtifactNotFoundError,
    ArtifactStoreUnavailableError,
    ConfigurationError,
)


class FsspecArtifactStore(ArtifactStore):
    """Content-addressed blobs on an fsspec filesystem; one object per blob."""

    def __init__(self, root: str, **storage_options: Any) -> None:
        super().__init__(root.rstrip("/"))
        self.storage_options = storage_options
        self._fs: Any = None
        self._prefix = ""

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            try:
                self._fs, self._prefix = fsspec.core.url_to_fs(self.root, **self.storage_options)
            except ImportError as exc:
                raise ConfigurationError(
                    f"no filesystem driver for {self.root}: {exc}",
                    hint="for s3:// install 'modelward[s3]'",
                ) from exc
        return self._fs

    def _key(self, digest: str) -> str:
        check_digest(digest)
        _ = self.fs
        return f"{self._prefix.rstrip('/')}/sha256/{digest[:2]}/{digest}"

    def put_file(self, src: Path) -> StoredBlob:
        digest, size = file_digest(src)
        key = self._key(digest)
        try:
            if self.fs.exists(key):
                return StoredBlob(digest, size, created=False)
            self.fs.put_file(str(src), key)  # one object: visible whole or not at all
        except (OSError, PermissionError) as exc:
            raise ArtifactStoreUnavailableError(
                f"cannot write to the artifact store {self.root}: {exc}",
                hint="check MODELWARD_ARTIFACT_ROOT, credentials and network",
            ) from exc
        return StoredBlob(digest, size, created=True)

    def _open_raw(self, digest: str) -> IO[bytes]:
        key = self._key(digest)
        try:
            handle: IO[bytes] = self.fs.open(key, "rb")
        except FileNotFoundError:
            raise ArtifactNotFoundError(
                f"artifact {digest} is missing from {self.root}",
                hint="the artifact store was changed outside modelward; restore it from a backup",
            ) from None
        return handle

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._key(digest)))

    def delete(self, digest: str) -> None:
        key = self._key(digest)
        if self.fs.exists(key):
            self.fs.rm(key)

    def digests(self) -> Iterator[str]:
        base = f"{self._prefix.rstrip('/')}/sha256"
        _ = self.fs
        if self.fs.exists(base):
            for path in sorted(self.fs.find(base)):
                yield path.rsplit("/", 1)[-1]

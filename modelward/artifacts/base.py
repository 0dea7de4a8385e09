"""The artifact-store contract: content-addressed blobs, verified on every read."""

from __future__ import annotations

import abc
import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from modelward.errors import ArtifactIntegrityError, UnsafePathError

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20
SPOOL_LIMIT = 64 << 20  # blobs up to this size are verified in memory, larger ones on disk


def check_digest(digest: str) -> str:
    """Return ``digest`` if it is a lowercase sha256 hex string; refuse anything else."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise UnsafePathError(
            f"{digest!r} is not a sha256 digest", hint="a digest is 64 lowercase hex characters"
        )
    return digest


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 and size of a local file."""
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


@dataclass(frozen=True)
class StoredBlob:
    """Result of a put: the digest, the size, and whether this put created the blob."""

    digest: str
    size: int
    created: bool


class ArtifactStore(abc.ABC):
    """Blobs named by their sha256."""

    def __init__(self, root: str) -> None:
        self.root = root

    @abc.abstractmethod
    def put_file(self, src: Path) -> StoredBlob:
        """Store the local file ``src``; storing identical content twice is a no-op."""

    @abc.abstractmethod
    def _open_raw(self, digest: str) -> IO[bytes]:
        """Open the stored bytes of ``digest`` for reading, unverified."""

    @abc.abstractmethod
    def exists(self, digest: str) -> bool:
        """True when the blob is stored."""

    @abc.abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob (no error when it is already gone)."""

    @abc.abstractmethod
    def digests(self) -> Iterator[str]:
        """Every stored digest."""

    def describe(self) -> dict[str, Any]:
        """Kind and root, for ``modelward doctor``."""
        return {"kind": type(self).__name__, "root": self.root}

    @contextmanager
    def open_verified(self, digest: str) -> Iterator[IO[bytes]]:
        """A private, already-verified copy of a blob, positioned at its start.

        The bytes are hashed while they are copied, so what the caller reads is exactly what
        was verified; a mismatch raises :class:`ArtifactIntegrityError` naming the digest.
        """
        check_digest(digest)
        sha = hashlib.sha256()
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT) as copy:
            with self._open_raw(digest) as src:
                while chunk := src.read(CHUNK):
                    sha.update(chunk)
                    copy.write(chunk)
            actual = sha.hexdigest()
            if actual != digest:
                raise ArtifactIntegrityError(
                    f"artifact {digest} in {self.root} has been changed: its content now hashes to "
                    f"{actual}; refusing to load it",
                    hint="restore the artifact from a backup or register the model again",
                )
            copy.seek(0)
            yield copy

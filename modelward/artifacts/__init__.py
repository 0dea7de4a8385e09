"""Content-addressed artifact stores: a local folder, or any fsspec URL."""

from __future__ import annotations

from typing import Any

from modelward.artifacts.base import ArtifactStore, StoredBlob, check_digest, file_digest
from modelward.artifacts.local import LocalArtifactStore
from modelward.artifacts.remote import FsspecArtifactStore
from modelward.paths import canonical_location

__all__ = [
    "ArtifactStore",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "StoredBlob",
    "check_digest",
    "file_digest",
    "open_artifact_store",
]


def open_artifact_store(root: str, **storage_options: Any) -> ArtifactStore:
    """The store for ``root``: a local folder (or ``file://``), else fsspec."""
    canonical = canonical_location(root)
    if "://" not in canonical:
        return LocalArtifactStore(canonical)
    return FsspecArtifactStore(canonical, **storage_options)

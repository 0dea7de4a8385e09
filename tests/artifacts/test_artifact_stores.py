"""The artifact-store contract on a local folder, fsspec memory:// and S3 (moto server on loopback)."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.artifacts import (
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    open_artifact_store,
)
from modelward.errors import ArtifactIntegrityError, ArtifactNotFoundError, UnsafePathError


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _s3_store(endpoint: str) -> FsspecArtifactStore:
    import boto3

    bucket = f"b{uuid.uuid4().hex[:12]}"
    creds = {
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "region_name": "us-east-1",
    }
    boto3.client("s3", endpoint_url=endpoint, **creds).create_bucket(Bucket=bucket)
    return FsspecArtifactStore(
        f"s3://{bucket}/modelward",
        key="test",
        secret="test",
        client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"},
    )


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "artifacts"))
    if request.param == "memory":
        return open_artifact_store(f"memory://mw-{uuid.uuid4().hex}")
    return _s3_store(request.getfixturevalue("s3_endpoint"))


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / f"f{uuid.uuid4().hex}"
    path.write_bytes(content)
    return path


def test_put_is_content_addressed_and_idempotent(store: ArtifactStore, tmp_path: Path) -> None:
    content = b"model bytes" * 1000
    first = store.put_file(write(tmp_path, content))
    assert first.digest == hashlib.sha256(content).hexdigest() and first.size == len(content)
    assert first.created and store.exists(first.digest)
    again = store.put_file(write(tmp_path, content))
    assert again.digest == first.digest and not again.created
    with store.open_verified(first.digest) as fh:
        assert fh.read() == content
    assert list(store.digests()) == [first.digest]
    store.delete(first.digest)
    assert not store.exists(first.digest)
    store.delete(first.digest)  # deleting twice is fine


def test_missing_blob_is_named(store: ArtifactStore) -> None:
    digest = "a" * 64
    with pytest.raises(ArtifactNotFoundError, match=digest), store.open_verified(digest):
        pass


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "abc", "a" * 63 + "/", "%2e%2e"])
def test_non_digest_names_are_refused(store: ArtifactStore, bad: str) -> None:
    with pytest.raises(UnsafePathError):
        store.exists(bad)
    with pytest.raises(UnsafePathError), store.open_verified(bad):
        pass


def test_local_tampered_blob_is_refused_naming_the_digest(tmp_path: Path) -> None:
    store = LocalArtifactStore(str(tmp_path / "a"))
    blob = store.put_file(write(tmp_path, b"original content"))
    path = tmp_path / "a" / "sha256" / blob.digest[:2] / blob.digest
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01  # one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError) as info, store.open_verified(blob.digest):
        pass
    assert blob.digest in info.value.message and "changed" in info.value.message


def test_local_blob_swapped_for_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    store = LocalArtifactStore(str(tmp_path / "a"))
    blob = store.put_file(write(tmp_path, b"content"))
    path = tmp_path / "a" / "sha256" / blob.digest[:2] / blob.digest
    outside = write(tmp_path, b"content")
    path.unlink()
    os.symlink(outside, path)
    with pytest.raises(UnsafePathError), store.open_verified(blob.digest):
        pass


def test_remote_tampered_blob_is_refused(tmp_path: Path) -> None:
    store = open_artifact_store(f"memory://mw-{uuid.uuid4().hex}")
    assert isinstance(store, FsspecArtifactStore)
    blob = store.put_file(write(tmp_path, b"original"))
    key = store._key(blob.digest)
    with store.fs.open(key, "wb") as fh:
        fh.write(b"0riginal")
    with pytest.raises(ArtifactIntegrityError, match=blob.digest), store.open_verified(blob.digest):
        pass


def test_local_writes_are_atomic_and_read_only(tmp_path: Path) -> None:
    store = LocalArtifactStore(str(tmp_path / "a"))
    blob = store.put_file(write(tmp_path, b"x"))
    path = tmp_path / "a" / "sha256" / blob.digest[:2] / blob.digest
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert list((tmp_path / "a" / ".tmp").iterdir()) == []  # no temp file left behind


def test_roots_are_chosen_and_canonicalised(tmp_path: Path) -> None:
    assert isinstance(open_artifact_store(str(tmp_path / "x" / ".." / "y")), LocalArtifactStore)
    assert open_artifact_store(str(tmp_path / "x" / ".." / "y")).root == str(tmp_path / "y")
    assert isinstance(open_artifact_store(f"file://{tmp_path}"), LocalArtifactStore)
    assert isinstance(open_artifact_store("memory://bucket/p"), FsspecArtifactStore)
    with pytest.raises(UnsafePathError):
        open_artifact_store("s3://bucket/../other")
    with pytest.raises(UnsafePathError):
        open_artifact_store("s3://bucket/p#x")

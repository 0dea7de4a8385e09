"""Loading a model in remote mode (SQLite and PostgreSQL): the artifact comes over HTTP,
verified on both ends, and the loaded model scores as the embedded one does."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelward.config import load_settings
from modelward.errors import (
    ArtifactIntegrityError,
    AuthenticationError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelward.remote import RemoteClient
from modelward.remote.artifacts import download
from tests.remote.conftest import Server, register_bc


def client_at(server: Server, token: str | None, home: Path) -> RemoteClient:
    """A remote client with its own home (so its cache folder is its own to inspect)."""
    settings = replace(load_settings(), home=home)
    return RemoteClient(settings, tracking_uri=server.url, token=token, timeout=30)


def test_remote_load_predicts_as_the_local_load(
    server: Server, cancer: Any, tmp_path: Path
) -> None:
    register_bc(server, cancer)
    features = cancer[1].drop(columns=["label"])
    viewer = client_at(server, server.token_for("vic", "viewer"), tmp_path / "vic")
    with viewer.load_model("bc") as remote, server.local.load_model("bc/1") as local:
        assert remote.version == local.version and remote.version.version == 1
        pd.testing.assert_frame_equal(remote.predict(features), local.predict(features))
        assert remote.metadata == local.metadata
    assert list((tmp_path / "vic" / "cache").iterdir()) == []  # unload removed the folder


def test_the_artifact_route_streams_the_verified_tar(server: Server, cancer: Any) -> None:
    register_bc(server, cancer)
    version = server.local.get("bc/1")
    request = urllib.request.Request(f"{server.url}/api/v1/models/bc/versions/1/artifact")
    request.add_header("Authorization", f"Bearer {server.admin_token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        assert response.headers["Content-Type"] == "application/x-tar"
        assert response.headers["X-Modelward-Digest"] == version.digest
    assert hashlib.sha256(body).hexdigest() == version.digest and len(body) == version.size_bytes


def test_unknown_models_and_versions_are_404(server: Server, cancer: Any, tmp_path: Path) -> None:
    register_bc(server, cancer)
    remote = client_at(server, server.admin_token, tmp_path / "c")
    with pytest.raises(ModelNotFoundError):
        remote.load_model("nope/1")
    with pytest.raises(VersionNotFoundError):
        remote.load_model("bc/9")
    unknown = replace(remote.get("bc/1"), version=9)
    with pytest.raises(VersionNotFoundError):  # the artifact route itself, not the resolve
        download(remote._http, unknown, tmp_path / "c" / "cache")
    assert list((tmp_path / "c" / "cache").iterdir()) == []


def test_without_a_token_the_artifact_is_refused(
    server: Server, cancer: Any, tmp_path: Path
) -> None:
    register_bc(server, cancer)
    with pytest.raises(AuthenticationError):
        client_at(server, None, tmp_path / "anon").load_model("bc/1")
    request = urllib.request.Request(f"{server.url}/api/v1/models/bc/versions/1/artifact")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


def test_a_blob_tampered_on_the_server_is_refused(
    server: Server, cancer: Any, tmp_path: Path
) -> None:
    register_bc(server, cancer)
    version = server.local.get("bc/1")
    blob = Path(server.local.settings.artifact_root) / "sha256" / version.digest[:2]
    blob = blob / version.digest
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    remote = client_at(server, server.admin_token, tmp_path / "c")
    with pytest.raises(ArtifactIntegrityError) as refused:
        remote.load_model("bc/1")
    assert version.digest in refused.value.message and "refusing" in refused.value.message
    assert list((tmp_path / "c" / "cache").iterdir()) == []


def test_a_download_that_does_not_hash_to_the_digest_leaves_nothing(
    server: Server, cancer: Any, tmp_path: Path
) -> None:
    register_bc(server, cancer)
    remote = client_at(server, server.admin_token, tmp_path / "c")
    expected = replace(remote.get("bc/1"), digest="0" * 64)  # what the client was told to expect
    cache = tmp_path / "c" / "cache"
    with pytest.raises(ArtifactIntegrityError) as refused:
        download(remote._http, expected, cache)
    assert "0" * 64 in refused.value.message and "refusing to load" in refused.value.message
    assert list(cache.iterdir()) == []

"""Registering in remote mode (SQLite and PostgreSQL): the package is built here, uploaded, and
recorded by the server as the token's user; bad uploads leave no version and no blob."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from modelward.api import registrations
from modelward.config import load_settings
from modelward.errors import (
    InvalidInputError,
    ModelNotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    StoreUnavailableError,
)
from modelward.registry.package import Package, build_package
from modelward.remote import RemoteClient
from modelward.remote.artifacts import form, upload_package
from modelward.store.sql import SqlStore
from tests.governance.test_validation import logistic
from tests.registry.test_failures import _bring_database_back, _take_database_down
from tests.remote.conftest import Server


def client_at(server: Server, token: str | None, home: Path) -> RemoteClient:
    """A remote client with its own home: nothing it builds lands in the server's folders."""
    settings = replace(load_settings(), home=home, actor="os-user")
    return RemoteClient(settings, tracking_uri=server.url, token=token, timeout=60)


def blobs(server: Server) -> set[str]:
    """Every digest in the server's artifact store."""
    return set(server.local.registry.artifacts.digests())


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Package]:
    """A small real package, built as the remote client builds it."""
    settings = replace(load_settings(), home=tmp_path / "pkg")
    model = LogisticRegression().fit([[0.0], [1.0], [2.0]], [0, 1, 1])
    example = pd.DataFrame({"x": [0.5, 1.5]})
    with build_package(settings, model, "m", input_example=example) as built:
        yield built


def send(remote: RemoteClient, metadata: dict[str, Any], package: Package) -> Any:
    """Upload ``package``'s tar with hand-made ``metadata``."""
    body, kind = form({"metadata": json.dumps(metadata)}, "artifact", package.tar.read_bytes())
    return remote._http.send("POST", "/models/m/versions", data=body, content_type=kind)


def test_register_remotely_then_load_remotely(server: Server, cancer: Any, tmp_path: Path) -> None:
    train, holdout = cancer
    features = train.drop(columns=["label"])
    fitted = logistic().fit(features, train["label"])
    sam = client_at(server, server.token_for("sam", "data_scientist"), tmp_path / "sam")
    version = sam.register_model(
        fitted, "bc", input_example=features.head(), training_data=features, metrics={"auc": 0.9}
    )
    assert (version.name, version.version, version.created_by) == ("bc", 1, "sam")
    assert server.local.get("bc/1") == version and version.metrics == {"auc": 0.9}
    assert server.local.get_model("bc").owner == "sam"
    lineage = version.lineage
    assert lineage["source"]["kind"] == "object" and lineage["datasets"][0]["role"] == "training"
    assert "scikit-learn" in lineage["environment"]["packages"]
    profile = lineage["reference_profile"]
    assert profile["rows"] == len(features) and profile["outputs"] == "profiled"
    assert {version.digest, profile["digest"]} <= blobs(server)
    assert version.signature is not None and version.signature.outputs  # probed on the client
    x = holdout.drop(columns=["label"])
    with sam.load_model("bc/1") as remote, server.local.load_model("bc/1") as local:
        pd.testing.assert_frame_equal(remote.predict(x), local.predict(x))
        assert (remote.predict(x)["prediction"].to_numpy() == fitted.predict(x)).all()
    assert list((tmp_path / "sam" / "cache").iterdir()) == []


def test_metadata_typos_and_bad_values_are_400_naming_the_field(
    server: Server, package: Package, tmp_path: Path
) -> None:
    remote = client_at(server, server.admin_token, tmp_path / "c")
    good = {"flavor": package.flavor, "flavor_config": package.flavor_config}
    before = blobs(server)
    cases = [
        ({**good, "metrcs": {"auc": 0.9}}, "metadata.metrcs"),
        ({**good, "metrics": {"auc": "high"}}, "metrics"),
        ({**good, "signature": {"inputs": [], "outputz": []}}, "metadata.signature"),
        ({**good, "flavor": "sklaern"}, "sklaern"),
        ({**good, "risk_tier": "tiny"}, "metadata.risk_tier"),
        ({**good, "tags": {"team": ["a"]}}, "metadata.tags.team"),
        ({**good, "lineage": {"reference_profile": {"digest": "0" * 64}}}, "reference_profile"),
    ]
    for metadata, named in cases:
        with pytest.raises(InvalidInputError) as refused:
            send(remote, metadata, package)
        assert named in refused.value.message, refused.value.message
    with pytest.raises(ModelNotFoundError):
        server.local.get_model("m")
    assert blobs(server) == before
    send(remote, good, package)  # the same package with good metadata is recorded
    assert server.local.get("m/1").created_by == "admin"


def test_a_part_that_is_not_a_tar_is_refused(server: Server, tmp_path: Path) -> None:
    remote = client_at(server, server.admin_token, tmp_path / "c")
    before = blobs(server)
    body, kind = form({"metadata": json.dumps({"flavor": "sklearn"})}, "artifact", b"junk" * 9)
    with pytest.raises(InvalidInputError, match="not a tar"):
        remote._http.send("POST", "/models/m/versions", data=body, content_type=kind)
    assert blobs(server) == before


def test_a_viewer_may_not_register(server: Server, package: Package, tmp_path: Path) -> None:
    viewer = client_at(server, server.token_for("vic", "viewer"), tmp_path / "vic")
    with pytest.raises(PermissionDeniedError) as refused:
        upload_package(viewer._http, "m", package)
    assert refused.value.permission == "models:write" and "models:write" in refused.value.message


def test_a_lower_tier_for_a_new_model_needs_policies_write(
    server: Server, package: Package, tmp_path: Path
) -> None:
    sam = client_at(server, server.token_for("sam", "data_scientist"), tmp_path / "sam")
    low = replace(package, model_fields={**package.model_fields, "risk_tier": "low"})
    before = blobs(server)
    with pytest.raises(PermissionDeniedError) as refused:
        upload_package(sam._http, "m", low)
    assert refused.value.permission == "policies:write" and blobs(server) == before
    assert upload_package(server.admin._http, "m", low).version == 1
    assert server.local.get_model("m").risk_tier == "low"


def test_an_upload_over_the_cap_is_413(
    server: Server, package: Package, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = blobs(server)
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/api/v1/models/m/versions")
    conn.putheader("Authorization", f"Bearer {server.admin_token}")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(registrations.MAX_ARTIFACT_BYTES + 1))
    conn.endheaders()
    answer = conn.getresponse()  # refused on the declared length, before the body is read
    assert answer.status == 413 and json.loads(answer.read())["code"] == "PAYLOAD_TOO_LARGE"
    conn.close()
    monkeypatch.setattr(registrations, "MAX_ARTIFACT_BYTES", package.tar.stat().st_size // 2)
    with pytest.raises(PayloadTooLargeError):
        upload_package(server.admin._http, "m", package)
    assert blobs(server) == before
    with pytest.raises(ModelNotFoundError):
        server.local.get_model("m")


def test_a_failure_after_the_blob_is_stored_leaves_no_version_and_no_blob(
    server: Server, package: Package, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_package(server.admin._http, "m", package)  # the model exists; one blob
    before = blobs(server)
    real = SqlStore.create_version

    def lose_database_then_create(self: SqlStore, *args: Any, **kwargs: Any) -> Any:
        self.engine.dispose()  # the server's connections, then the database itself
        _take_database_down(server.local)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SqlStore, "create_version", lose_database_then_create)
    other = client_at(server, server.admin_token, tmp_path / "c")
    model = LogisticRegression(C=3.0).fit([[0.0], [1.0], [2.0]], [0, 1, 0])
    with pytest.raises(StoreUnavailableError):
        other.register_model(model, "m", input_example=pd.DataFrame({"x": [0.5]}))
    monkeypatch.undo()
    _bring_database_back(server.local)
    server.local.registry.store.engine.dispose()
    assert blobs(server) == before  # the new tar was removed again
    assert [v.version for v in server.local.versions("m")] == [1]

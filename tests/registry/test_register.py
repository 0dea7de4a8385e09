"""Registration and loading through the SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modelward as mw
from modelward.client import Client
from modelward.errors import (
    AliasNotFoundError,
    AlreadyExistsError,
    InvalidInputError,
    InvalidModelError,
    ModelNotFoundError,
    SignatureViolationError,
    UnknownFlavorError,
    UntrustedContentError,
    VersionNotFoundError,
)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="module")
def model(data: tuple[pd.DataFrame, pd.Series]) -> object:
    x, y = data
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)


def test_register_alias_load_predict(
    client: Client, model: object, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, _ = data
    v = client.register_model(
        model,
        "bc",
        input_example=x.head(10),
        training_data=x,
        metrics={"auc": 0.99},
        params={"C": 1.0},
        tags={"team": "risk"},
        description="first",
        risk_tier="low",  # the champion alias auto-approves low-risk versions
    )
    assert (v.name, v.version, v.flavor, len(v.digest)) == ("bc", 1, "sklearn", 64)
    assert v.signature is not None and v.signature.input_names == list(x.columns)
    assert v.signature.output_names == ["prediction"]
    assert v.input_example is not None and len(v.input_example) == 5
    dataset = v.lineage["datasets"][0]
    assert dataset["fingerprint"].startswith("frame-sha256:") and dataset["rows"] == len(x)
    assert v.lineage["environment"]["packages"]["scikit-learn"]
    assert v.lineage["source"]["type"] == "sklearn.pipeline.Pipeline"
    client.set_alias("bc", "champion", 1)
    loaded = client.load_model("models:/bc@champion")
    np.testing.assert_array_equal(loaded.predict(x)["prediction"], model.predict(x))  # type: ignore[attr-defined]
    proba = loaded.predict(x.head(3), proba=True)
    assert list(proba.columns) == ["prediction", "probability_0", "probability_1"]
    assert loaded.metadata["digest"] == v.digest and loaded.metadata["runtime"]["classes"] == [0, 1]
    loaded.unload()


def test_module_level_sdk_uses_the_environment(
    model: object, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, _ = data
    v = mw.register_model(model, "sdk-model", input_example=x.head(3))
    assert mw.load_model("sdk-model").predict(x.head(2)).shape == (2, 1)
    assert mw.Client().get("sdk-model/1").digest == v.digest


def test_same_file_twice_shares_one_artifact(
    sqlite_client: Client, model: object, tmp_path: Path
) -> None:
    import skops.io as sio

    sio.dump(model, tmp_path / "m.skops")
    a = sqlite_client.register_model(tmp_path / "m.skops", "twice")
    b = sqlite_client.register_model(tmp_path / "m.skops", "twice")
    assert (a.version, b.version) == (1, 2) and a.digest == b.digest
    sqlite_client.delete("twice/1")
    assert sqlite_client.registry.artifacts.exists(b.digest)  # still used by version 2
    sqlite_client.delete("twice/2")
    assert not sqlite_client.registry.artifacts.exists(b.digest)


def test_signature_violation_lists_every_problem(
    sqlite_client: Client, model: object, data: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, _ = data
    sqlite_client.register_model(model, "bc", input_example=x.head(10))
    loaded = sqlite_client.load_model("bc")
    bad = (
        x.head(3)
        .drop(columns=["mean radius", "mean texture"])
        .assign(**{"mean area": ["a", "b", "c"]})
    )
    with pytest.raises(SignatureViolationError) as info:
        loaded.predict(bad)
    text = str(info.value)
    assert "'mean radius', 'mean texture'" in text and "column 'mean area': expected double" in text
    assert len(info.value.problems) == 2


def test_pickle_needs_the_trust_flag(sqlite_client: Client, model: object, tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    with pytest.raises(UntrustedContentError) as info:
        sqlite_client.register_model(path, "pickled")
    assert "--trust-pickle" in (info.value.hint or "")
    with pytest.raises(ModelNotFoundError):
        sqlite_client.get_model("pickled")  # nothing recorded
    joblib.dump(model, tmp_path / "model.joblib")
    v = sqlite_client.register_model(tmp_path / "model.joblib", "pickled", trust_pickle=True)
    assert v.flavor_config["format"] == "skops"  # converted: what is stored loads without pickle
    assert v.lineage["source"]["pickle_trusted_by"] == "tester"
    with (
        sqlite_client.registry.artifacts.open_verified(v.digest) as fh,
        tarfile.open(fileobj=fh) as tar,
    ):
        assert tar.getnames() == ["model.skops"]


def test_unknown_flavor_and_things_that_are_no_model(
    sqlite_client: Client, model: object, tmp_path: Path
) -> None:
    with pytest.raises(UnknownFlavorError) as info:
        sqlite_client.register_model(model, "m", flavor="tensorflow")
    assert "sklearn" in (info.value.hint or "")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InvalidModelError, match="not a model file"):
        sqlite_client.register_model(junk, "m")
    fake = tmp_path / "fake.skops"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidModelError, match=r"fake\.skops"):
        sqlite_client.register_model(fake, "m")
    with pytest.raises(InvalidModelError, match="no flavor knows"):
        sqlite_client.register_model(object(), "m")
    with pytest.raises(InvalidModelError, match="cannot save"):
        sqlite_client.register_model(model, "m", flavor="onnx")
    with pytest.raises(InvalidInputError, match="no such file"):
        sqlite_client.register_model(tmp_path / "missing.skops", "m")
    assert sqlite_client.list() == []
    assert list(sqlite_client.registry.artifacts.digests()) == []


def test_bad_metadata_is_refused_before_anything_is_written(
    sqlite_client: Client, model: object
) -> None:
    with pytest.raises(InvalidInputError, match="auc='high'"):
        sqlite_client.register_model(model, "m", metrics={"auc": "high", "f1": 0.5})
    with pytest.raises(InvalidInputError, match="loss=nan"):
        sqlite_client.register_model(model, "m", metrics={"loss": float("nan")})
    with pytest.raises(InvalidInputError, match="JSON"):
        sqlite_client.register_model(model, "m", params={"f": object()})
    assert list(sqlite_client.registry.artifacts.digests()) == []


def test_missing_references_say_what_exists(sqlite_client: Client, model: object) -> None:
    sqlite_client.register_model(model, "churn", risk_tier="low")  # champion auto-approves
    sqlite_client.set_alias("churn", "champion", 1)
    with pytest.raises(ModelNotFoundError) as m:
        sqlite_client.load_model("chrun")
    assert "did you mean churn" in (m.value.hint or "")
    with pytest.raises(VersionNotFoundError, match="version 5") as v:
        sqlite_client.load_model("churn/5")
    assert v.value.hint == "versions: 1"
    with pytest.raises(AliasNotFoundError) as a:
        sqlite_client.load_model("churn@prod")
    assert "champion → 1" in (a.value.hint or "")


def test_duplicate_model_name(sqlite_client: Client) -> None:
    sqlite_client.create_model("dup", description="x")
    with pytest.raises(AlreadyExistsError, match="already exists"):
        sqlite_client.create_model("dup")


def test_archive_and_delete_rules(sqlite_client: Client, model: object) -> None:
    for _ in range(2):
        sqlite_client.register_model(model, "m")
    sqlite_client.archive("m/2")
    assert sqlite_client.get("m").version == 1
    assert sqlite_client.load_model("m/2").version.archived  # still loadable by exact version
    assert [v.version for v in sqlite_client.versions("m")] == [1]
    with pytest.raises(InvalidInputError, match="exact version"):
        sqlite_client.archive("m")
    sqlite_client.restore("m/2")
    assert sqlite_client.get("m").version == 2
    with pytest.raises(InvalidInputError, match="not an alias"):
        sqlite_client.delete("m@champion")

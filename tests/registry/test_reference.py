"""A reference profile of the training data (and the model's outputs on it) is stored with
each version registered with training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from modelward.client import Client
from modelward.errors import InvalidDataError
from modelward.monitoring.reference import load_reference


def training(rows: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"age": rng.normal(40, 9, rows), "income": rng.gamma(2, 20_000, rows)})
    return frame, (frame["age"] > 40).to_numpy().astype(int)


def test_a_frame_is_profiled_with_the_models_outputs(sqlite_client: Client) -> None:
    x, y = training()
    model = LogisticRegression().fit(x, y)
    v = sqlite_client.register_model(model, "ref", input_example=x.head(), training_data=x)
    record = v.lineage["reference_profile"]
    assert record["rows"] == 300 and record["outputs"] == "profiled"
    ref = load_reference(sqlite_client.registry.artifacts, v.lineage)
    assert ref is not None and ref.outputs is not None
    assert sorted(ref.inputs.columns) == ["age", "income"] and ref.inputs.rows == 300
    age = ref.inputs.columns["age"]
    assert age.valid == 300 and age.minimum == pytest.approx(x["age"].min())
    assert age.moments.mean == pytest.approx(x["age"].mean())
    predicted = ref.outputs.columns["prediction"]
    assert predicted.valid == 300
    assert predicted.values == {
        0.0: int((model.predict(x) == 0).sum()),
        1.0: int(model.predict(x).sum()),
    }


def test_a_file_is_streamed_and_only_signature_columns_kept(
    sqlite_client: Client, tmp_path: Path
) -> None:
    x, y = training(1000)
    model = LogisticRegression().fit(x, y)
    path = tmp_path / "train.parquet"
    x.assign(label=y).to_parquet(path)  # the label is not an input: not profiled
    v = sqlite_client.register_model(model, "ref", input_example=x.head(), training_data=path)
    ref = load_reference(sqlite_client.registry.artifacts, v.lineage)
    assert ref is not None and sorted(ref.inputs.columns) == ["age", "income"]
    assert ref.inputs.rows == 1000


def test_pii_categories_are_profiled_without_raw_values(
    sqlite_client: Client, tmp_path: Path
) -> None:
    from modelward.runtimes.python import PythonModel

    (tmp_path / "m.py").write_text(
        "class M:\n    def predict(self, frame):\n        return frame['x'] * 2\n"
    )
    train = pd.DataFrame({"email": ["a@x.org", "b@y.org", "a@x.org"], "x": [1.0, 2.0, 3.0]})
    signature = {
        "inputs": [
            {"name": "email", "type": "string", "pii": True},
            {"name": "x", "type": "double"},
        ]
    }
    v = sqlite_client.register_model(
        PythonModel("m:M", code=[tmp_path / "m.py"]),
        "pii",
        signature=signature,
        input_example=train.head(1),
        training_data=train,
    )
    ref = load_reference(sqlite_client.registry.artifacts, v.lineage)
    assert ref is not None
    table = ref.inputs.columns["email"].to_dict()["table"]
    assert "a@x.org" not in str(table) and ref.inputs.columns["email"].valid == 3


def test_no_training_data_means_no_reference(sqlite_client: Client) -> None:
    x, y = training()
    v = sqlite_client.register_model(LogisticRegression().fit(x, y), "ref", input_example=x.head())
    assert "reference_profile" not in v.lineage
    assert load_reference(sqlite_client.registry.artifacts, v.lineage) is None


def test_unprofilable_training_data_registers_nothing(sqlite_client: Client) -> None:
    x, y = training()
    model = LogisticRegression().fit(x, y)
    before = set(sqlite_client.registry.artifacts.digests())
    bad = x.assign(age=["old" if i % 2 else i for i in range(len(x))])  # text and numbers
    with pytest.raises(InvalidDataError, match="cannot profile the training data"):
        sqlite_client.register_model(model, "ref", input_example=x.head(), training_data=bad)
    assert sqlite_client.list() == [] and set(sqlite_client.registry.artifacts.digests()) == before
    nested = x.assign(age=[{"nested": i} for i in range(len(x))])
    with pytest.raises(InvalidDataError, match="cannot fingerprint the data"):
        sqlite_client.register_model(model, "ref", input_example=x.head(), training_data=nested)

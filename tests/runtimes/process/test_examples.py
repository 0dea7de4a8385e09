"""The shipped Node.js and R examples give the numbers Python computes from the same weights."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelward.client import Client
from modelward.runtimes.base import SaveOptions
from modelward.runtimes.process import ProcessFlavor, ProcessRuntime

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "process"
PROGRAMS = {"node": "node", "r": "Rscript"}


def weights(example: str) -> tuple[float, dict[str, float]]:
    """The intercept and per-feature weights the example reads."""
    if example == "node":
        data = json.loads((EXAMPLES / "node" / "weights.json").read_text())
        return data["intercept"], data["weights"]
    with (EXAMPLES / "r" / "weights.csv").open() as fh:
        rows = {row["feature"]: float(row["weight"]) for row in csv.DictReader(fh)}
    return rows.pop("(intercept)"), rows


def applicants(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "age": rng.uniform(18, 80, rows),
            "income": rng.uniform(10, 200, rows),
            "debt_ratio": rng.uniform(0, 2, rows),
        }
    )


def expected(example: str, frame: pd.DataFrame, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    intercept, coefficients = weights(example)
    z = intercept + sum(w * frame[name].to_numpy() for name, w in coefficients.items())
    p = 1 / (1 + np.exp(-z))
    return p, (p >= threshold).astype(np.int64)


def require(example: str) -> None:
    """The examples are part of what the flavor promises: a missing interpreter is a failure."""
    program = PROGRAMS[example]
    if shutil.which(program) is None:
        pytest.fail(
            f"{program} is not installed: apt-get install nodejs r-base-core (.ci/run does)"
        )


@pytest.mark.parametrize("example", list(PROGRAMS))
def test_the_example_scores_like_python(example: str, tmp_path: Path) -> None:
    require(example)
    flavor = ProcessFlavor()
    assert flavor.sniff(EXAMPLES / example)
    saved = flavor.import_path(EXAMPLES / example, tmp_path, SaveOptions())
    assert saved.signature is not None
    assert saved.signature.input_names == ["age", "income", "debt_ratio"]
    assert saved.signature.output_names == ["probability", "label"]
    assert saved.config["params"] == {
        "threshold": "probability from which the label is 1 (default 0.5)"
    }
    runtime = flavor.runtime(tmp_path, saved.config)
    assert isinstance(runtime, ProcessRuntime)
    runtime.load()
    try:
        frame = applicants(2000)  # split across the copies when there are several
        for threshold in (0.5, 0.2):
            out = runtime.predict(frame, {"threshold": threshold})
            p, label = expected(example, frame, threshold)
            assert list(out.columns) == ["probability", "label"]
            np.testing.assert_allclose(out["probability"].to_numpy(), p, rtol=1e-12)
            np.testing.assert_array_equal(out["label"].to_numpy(), label)
        assert runtime.predict(frame.head(0), {}).shape[0] == 0
    finally:
        runtime.unload()


def test_the_node_example_registers_loads_and_scores_through_the_registry() -> None:
    require("node")
    client = Client()
    version = client.register_model(EXAMPLES / "node", "node-scorer")
    assert version.flavor == "process"
    assert version.signature is not None and version.signature.output_names == [
        "probability",
        "label",
    ]
    frame = applicants(5)
    with client.load_model("node-scorer/1") as model:
        out = model.predict(frame, threshold=0.3)
        assert model.metadata["runtime"]["name"] == "logistic-node"
    p, label = expected("node", frame, 0.3)
    np.testing.assert_allclose(out["probability"].to_numpy(), p, rtol=1e-12)
    np.testing.assert_array_equal(out["label"].to_numpy(), label)

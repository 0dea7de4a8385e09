"""The CLI in remote mode registers through the server: the package is built here."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression

from tests.remote.conftest import Server
from tests.support.cli import Run


def test_register_through_the_server(server: Server, run: Run, tmp_path: Path) -> None:
    model = LogisticRegression().fit(pd.DataFrame({"x": [0.0, 1.0, 2.0]}), [0, 1, 1])
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    sample = tmp_path / "sample.csv"
    pd.DataFrame({"x": [0.5, 1.5]}).to_csv(sample, index=False)
    server.env(server.admin_token)
    made = run(
        "models", "register", str(path), "--name", "m", "--trust-pickle",
        "--sample", str(sample), "--json",
    )  # fmt: skip
    assert made.code == 0, made.err
    version: dict[str, Any] = json.loads(made.out)
    assert version["created_by"] == "admin"
    assert version["lineage"]["source"]["pickle_trusted_by"] == "admin"  # the caller vouches
    assert server.local.get("m/1").digest == version["digest"]

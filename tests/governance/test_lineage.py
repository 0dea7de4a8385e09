"""Lineage of a version: upstream as registered, downstream as recorded since (both backends)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sqlalchemy.orm import Session

from modelward.client import Client
from modelward.errors import EXIT_NOT_FOUND
from modelward.governance.lineage import version_lineage
from modelward.governance.lineage_db import store_engine
from modelward.store.entities import ModelVersion
from modelward.store.tables import ApprovalRow, ValidationReportRow
from tests.support.cli import Run


def iris() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


def register_iris(client: Client, tmp_path: Path, name: str = "iris") -> ModelVersion:
    """A logistic regression on iris with its training data file, params and metrics."""
    x, y = iris()
    train = tmp_path / "train.parquet"
    x.assign(y=y).to_parquet(train)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    return client.register_model(
        model,
        name,
        input_example=x.head(5),
        training_data=train,
        metrics={"accuracy": 0.97},
        params={"C": 1.0, "max_iter": 1000},
    )


def record_review(
    client: Client, version: ModelVersion, *, passed: bool = True, accuracy: float = 0.95
) -> None:
    """A validation report and an approval, written as the lifecycle service would store them."""
    at = version.created_at + timedelta(seconds=1)
    with Session(store_engine(client)) as session, session.begin():
        session.add(
            ValidationReportRow(
                model_name=version.name,
                version=version.version,
                digest=version.digest,
                passed=passed,
                checks=[
                    {
                        "kind": "goal",
                        "name": "accuracy>=0.9",
                        "status": "passed" if passed else "failed",
                    }
                ],
                metrics={"accuracy": accuracy, "f1": 0.94},
                champion_version=None,
                data={"location": "/data/holdout.csv", "fingerprint": "sha256:feed", "rows": 50},
                report_digest=None,
                actor="val",
                at=at,
            )
        )
        session.add(
            ApprovalRow(
                model_name=version.name,
                version=version.version,
                digest=version.digest,
                decision="approve",
                role="reviewer",
                comment="looks good",
                actor="rita",
                at=at,
            )
        )


def test_upstream_and_downstream(client: Client, tmp_path: Path) -> None:
    v1 = register_iris(client, tmp_path)
    v2 = register_iris(client, tmp_path)
    client.set_alias("iris", "staging", 1)
    client.set_alias("iris", "staging", 2)
    client.set_alias("iris", "challenger", 1)
    record_review(client, v1)
    found = version_lineage(client, "iris/1")
    assert found["ref"] == "iris/1" and found["digest"] == v1.digest
    up = found["upstream"]
    (dataset,) = up["datasets"]
    assert dataset["location"] == str(tmp_path / "train.parquet")
    assert dataset["fingerprint"].startswith("sha256:") and dataset["role"] == "training"
    assert up["params"] == {"C": 1.0, "max_iter": 1000}
    assert up["environment"]["python"] and "scikit-learn" in up["environment"]["packages"]
    assert up["source"]["kind"] == "object" and up["parent"] is None
    assert up["git"] is None or len(up["git"]["commit"]) == 40
    down = found["downstream"]
    assert down["aliases"] == ["challenger"]
    assert [(m["alias"], m["from_version"], m["to_version"]) for m in down["alias_history"]] == [
        ("staging", None, 1),
        ("staging", 1, 2),
        ("challenger", None, 1),
    ]
    (report,) = down["validation_reports"]
    assert report["passed"] and report["data"]["fingerprint"] == "sha256:feed"
    (approval,) = down["approvals"]
    assert (approval["actor"], approval["decision"], approval["comment"]) == (
        "rita",
        "approve",
        "looks good",
    )
    assert down["deployments"] == [] and down["alerts"] == []
    assert found["notes"]["deployments"].startswith("none yet")
    from modelward.monitoring.alerts import Breach, raise_alert

    breach = Breach(
        model="iris", version=None, monitor="m", metric="drift.dataset", severity="warning",
        value=1.0, threshold=">= 1", window_start=v1.created_at, window_end=v1.created_at,
        message="drift.dataset is 1",
    )  # fmt: skip
    raise_alert(client.registry.store, breach)  # type: ignore[arg-type]
    (alert,) = version_lineage(client, "iris/1")["downstream"]["alerts"]
    assert (alert["metric"], alert["status"]) == ("drift.dataset", "open")
    other = version_lineage(client, "iris@staging")
    assert other["version"] == v2.version and other["downstream"]["validation_reports"] == []


def test_records_of_an_earlier_version_with_the_same_number_are_not_shown(
    client: Client, tmp_path: Path
) -> None:
    old = register_iris(client, tmp_path, "recycled")
    record_review(client, old)
    client.delete("recycled/1")
    client.register_model(LogisticRegression(max_iter=1000).fit(*iris()), "recycled")
    down = version_lineage(client, "recycled/1")["downstream"]
    assert down["validation_reports"] == [] and down["approvals"] == []


def test_cli(client: Client, run: Run, tmp_path: Path) -> None:
    v = register_iris(client, tmp_path)
    client.set_alias("iris", "staging", 1)
    record_review(client, v)
    result = run("lineage", "iris@staging")
    assert result.code == 0, result.err
    for expected in ("upstream", "train.parquet", "sha256:", "staging", "rita", "none yet"):
        assert expected in result.out
    as_json = run("lineage", "iris", "--json")
    assert json.loads(as_json.out)["downstream"]["aliases"] == ["staging"]
    missing = run("lineage", "nope/1")
    assert missing.code == EXIT_NOT_FOUND and "not found" in missing.err


@pytest.mark.parametrize("ref", ["iris/9", "iris@nope"])
def test_unknown_versions(client: Client, run: Run, tmp_path: Path, ref: str) -> None:
    register_iris(client, tmp_path)
    assert run("lineage", ref).code == EXIT_NOT_FOUND

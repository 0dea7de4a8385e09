"""Validation on SQLite and PostgreSQL: real scikit-learn classifiers and regressors scored on
holdout data, goals and value/change thresholds, the first-version skip, the stored JSON and
HTML report, failing checks listed, bad data refused, the CLI."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from modelward.client import Client
from modelward.errors import (
    EXIT_CONFLICT,
    InvalidDataError,
    InvalidInputError,
    PolicyViolationError,
    StoreUnavailableError,
)
from modelward.governance.goals import ChangeThreshold
from modelward.governance.policies import parse_policy
from modelward.governance.validation import run_checks
from tests.governance.test_lifecycle import stage, write_policy
from tests.support.cli import Run

CLASSIFIER_METRICS = {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Breast-cancer training features and a labelled holdout (label column ``label``)."""
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    return x_tr.assign(label=y_tr), x_te.assign(label=y_te)


def register(
    client: Client, model: Any, train: pd.DataFrame, tier: str = "medium", **kw: Any
) -> int:
    features = train.drop(columns=["label"])
    fitted = model.fit(features, train["label"])
    return client.register_model(
        fitted, kw.pop("name", "bc"), input_example=features.head(), risk_tier=tier, **kw
    ).version


def logistic() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def test_classifier_first_version(client: Client, cancer: Any, tmp_path: Path) -> None:
    train, holdout = cancer
    write_policy(
        client,
        "medium",
        {
            "validation": {
                "thresholds": [{"metric": "accuracy", "min": 0.9}],
                "change_thresholds": [{"metric": "roc_auc", "max_absolute": 0.01}],
            }
        },
    )
    register(client, logistic(), train)
    client.update_model("bc", goals=["auc>=0.95", "log_loss<=0.5"])
    data = tmp_path / "holdout.csv"
    holdout.to_csv(data, index=False)
    report = client.validate("bc/1", data)
    assert report.passed and set(report.metrics) == CLASSIFIER_METRICS
    assert report.metrics["roc_auc"] > 0.95 and report.failed_checks == []
    statuses = {c["name"]: c["status"] for c in report.checks}
    assert statuses == {
        "goal roc_auc>=0.95": "passed",
        "goal log_loss<=0.5": "passed",
        "threshold accuracy>=0.9": "passed",
        "champion comparison": "skipped",
        "change roc_auc": "skipped",
    }
    skipped = next(c for c in report.checks if c["kind"] == "champion")
    assert "no champion yet (first version)" in skipped["detail"]  # the skip is recorded
    assert report.champion_version is None and report.digest == client.get("bc/1").digest
    assert report.data["fingerprint"].startswith("sha256:") and report.data["rows"] == len(holdout)
    assert (report.data["label_column"], report.data["task"]) == ("label", "classification")
    assert stage(client, "bc/1") == "validated"
    document = client.report_document(report.id)
    assert document["passed"] and document["metrics"] == report.metrics
    assert document["policy"]["tier"] == "medium" and document["checks"] == report.checks
    page = client.report_html(report)
    assert "Validation of bc/1" in page and "change roc_auc" in page and "skipped" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert [r.id for r in client.validation_reports("bc/1")] == [report.id]
    event = client.audit_events(object_id="bc/1")[-2]
    assert (event.action, event.after["passed"], event.after["report_id"]) == (
        "version.validate",
        True,
        report.id,
    )


def test_regressor(client: Client) -> None:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(x[:300], y[:300])
    client.register_model(model, "sugar", input_example=x.head(), risk_tier="low")
    client.update_model("sugar", goals=["r2>=0.3", "rmse<=70"])
    report = client.validate("sugar", x[300:].assign(y=y[300:]), label_column="y")
    assert report.data["task"] == "regression" and report.data["location"] == "in-memory"
    assert set(report.metrics) == {"rmse", "mae", "mape", "r2"} and report.passed
    assert stage(client, "sugar/1") == "approved"  # low risk: auto-approved once validated


def test_failing_checks_are_listed_and_the_draft_stays(client: Client, cancer: Any) -> None:
    train, holdout = cancer
    write_policy(client, "medium", {"validation": {"thresholds": ["f1>=0.999"]}})
    register(client, logistic(), train)
    client.update_model("bc", goals=["accuracy>=0.999", "auc>=0.9"])
    report = client.validate("bc/1", holdout)
    assert not report.passed
    assert report.failed_checks == ["goal accuracy>=0.999", "threshold f1>=0.999"]
    assert stage(client, "bc/1") == "draft"
    failed = re.escape("failed: goal accuracy>=0.999, threshold f1>=0.999")
    with pytest.raises(PolicyViolationError, match=failed):
        client.set_alias("bc", "champion", 1)


def test_change_thresholds_against_the_champion(client: Client, cancer: Any) -> None:
    train, holdout = cancer
    changes = [
        {"metric": "roc_auc", "max_absolute": 0.01},
        {"metric": "log_loss", "max_relative": 0.5},
    ]
    write_policy(client, "low", {"validation": {"change_thresholds": changes}})
    register(client, logistic(), train, tier="low")
    client.set_alias("bc", "champion", 1)
    register(client, DummyClassifier(strategy="prior"), train, tier="low")
    worse = client.validate("bc/2", holdout)
    assert worse.champion_version == 1 and not worse.passed
    assert worse.failed_checks == ["change roc_auc", "change log_loss"]
    auc = next(c for c in worse.checks if c["name"] == "change roc_auc")
    assert auc["champion"] > 0.95 and math.isclose(auc["value"], 0.5)
    assert "worse by" in auc["detail"] and stage(client, "bc/2") == "draft"
    register(client, logistic(), train, tier="low")
    same = client.validate("bc/3", holdout)
    assert same.passed and same.champion_version == 1
    assert next(c for c in same.checks if c["kind"] == "champion")["status"] == "passed"
    itself = client.validate("bc/1", holdout)  # the champion itself: nothing to compare
    assert itself.passed and "champion itself" in itself.checks[0]["detail"]
    assert stage(client, "bc/1") == "production"  # validated again, stage unchanged


@pytest.mark.parametrize(
    ("threshold", "champion", "candidate", "passed"),
    [
        (ChangeThreshold("roc_auc", "higher", max_absolute=0.01), 0.90, 0.895, True),
        (ChangeThreshold("roc_auc", "higher", max_absolute=0.01), 0.90, 0.88, False),
        (ChangeThreshold("roc_auc", "higher", max_relative=0.02), 0.90, 0.885, True),
        (ChangeThreshold("roc_auc", "higher", max_relative=0.02), 0.90, 0.87, False),
        (ChangeThreshold("rmse", "lower", max_absolute=1.0), 10.0, 10.9, True),
        (ChangeThreshold("rmse", "lower", max_absolute=1.0), 10.0, 11.5, False),
        (ChangeThreshold("rmse", "lower", max_relative=0.05), 10.0, 10.4, True),
        (ChangeThreshold("rmse", "lower", max_relative=0.05), 10.0, 9.0, True),  # better
        (ChangeThreshold("rmse", "lower", max_absolute=1.0, max_relative=0.05), 10.0, 10.8, False),
        (ChangeThreshold("mae", "lower", max_relative=0.1), 0.0, 0.1, False),  # from zero
    ],
)
def test_change_threshold_arithmetic(
    threshold: ChangeThreshold, champion: float, candidate: float, passed: bool
) -> None:
    metric = threshold.metric
    check = threshold.check({metric: candidate}, {metric: champion})
    assert check["passed"] is passed and check["status"] == ("passed" if passed else "failed")


def test_checks_when_the_champion_cannot_be_compared() -> None:
    strict = parse_policy("high", {"validation": {"checks": ["goals", "champion"]}})
    broken = {"version": 1, "ref": "m/1", "error": "missing column 'age'"}
    checks = run_checks(strict, [], {"accuracy": 0.9}, broken)
    assert [(c["name"], c["status"]) for c in checks] == [
        ("accuracy goals set", "failed"),
        ("champion comparison", "failed"),
    ]
    lenient = parse_policy("medium", {})
    assert run_checks(lenient, [], {}, broken)[0]["status"] == "skipped"
    missing = run_checks(lenient, [{"metric": "roc_auc", "min": 0.5}], {"accuracy": 1.0}, None)
    assert missing[0]["status"] == "failed" and "not computed" in missing[0]["detail"]


def test_multiclass_with_string_labels(client: Client) -> None:
    x, y = load_wine(return_X_y=True, as_frame=True)
    names = y.map({0: "barolo", 1: "grignolino", 2: "barbera"})
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, names)
    client.register_model(tree, "wine", input_example=x.head(), risk_tier="low")
    report = client.validate("wine", x.assign(kind=names), label_column="kind")
    assert set(report.metrics) == CLASSIFIER_METRICS and report.metrics["accuracy"] > 0.9


def test_bad_validation_data_is_refused(client: Client, cancer: Any, tmp_path: Path) -> None:
    train, holdout = cancer
    register(client, logistic(), train)
    events = len(client.audit_events())
    with pytest.raises(InvalidDataError, match="has no label column 'target'") as missing:
        client.validate("bc/1", holdout, label_column="target")
    assert "mean radius" in (missing.value.hint or "")
    unlabelled = holdout.assign(label=holdout["label"].where(holdout.index % 2 == 0))
    with pytest.raises(InvalidDataError, match=r"label column 'label' has \d+ missing"):
        client.validate("bc/1", unlabelled)
    with pytest.raises(InvalidInputError, match="unknown task 'ranking'"):
        client.validate("bc/1", holdout, task="ranking")
    with pytest.raises(InvalidInputError, match="no such file"):
        client.validate("bc/1", tmp_path / "nope.csv")
    assert len(client.audit_events()) == events and client.validation_reports("bc/1") == []


def test_cli_validate(client: Client, cancer: Any, run: Run, tmp_path: Path) -> None:
    train, holdout = cancer
    register(client, logistic(), train)
    data = tmp_path / "holdout.parquet"
    holdout.rename(columns={"label": "y"}).to_parquet(data)
    page = tmp_path / "report.html"
    done = run(
        "validate",
        "bc/1",
        "--data",
        str(data),
        "--label-column",
        "y",
        "--json",
        "--html-out",
        str(page),
    )
    assert done.code == 0, done.err
    body = json.loads(done.out)
    assert (
        body["passed"] and body["stage"] == "validated" and page.read_text().startswith("<!doctype")
    )
    client.update_model("bc", goals=["accuracy>=0.9999"])
    failed = run("validate", "bc/1", "--data", str(data), "--label-column", "y")
    assert failed.code == EXIT_CONFLICT and "validation failed" in failed.out
    assert "goal accuracy>=0.9999" in failed.out
    no_label = run("validate", "bc/1", "--data", str(data))
    assert no_label.code == 3 and "no label column 'label'" in no_label.err


def test_a_report_not_recorded_leaves_no_documents(
    client: Client, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, holdout = cancer
    register(client, logistic(), train)
    blobs = set(client.registry.artifacts.digests())

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailableError("database gone")

    monkeypatch.setattr(client.registry.store, "record_validation", refuse)
    with pytest.raises(StoreUnavailableError):
        client.validate("bc/1", holdout)
    assert set(client.registry.artifacts.digests()) == blobs

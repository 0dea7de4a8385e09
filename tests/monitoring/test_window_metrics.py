"""Drift and data quality of a window, computed from rolled-up profiles by the monitors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from modelward.client import Client
from modelward.errors import InvalidInputError
from modelward.monitoring.evaluate import MetricContext, provider_for, run_due_monitors
from modelward.monitoring.monitors import save_monitors
from modelward.store.tables import utcnow
from tests.monitoring.windowed import HOUR0, population, register, traffic

STABLE, SHIFTED = HOUR0, HOUR0 + timedelta(hours=5)


def metric(client: Client, name: str, start: object, hours: int = 1, version: int | None = None):  # type: ignore[no-untyped-def]
    provider = provider_for(name)
    assert provider is not None
    ctx = MetricContext(
        home=client.settings.home,
        settings=client.settings,
        store=client.registry.store,  # type: ignore[arg-type]
        model="loans",
        version=version,
        start=start,  # type: ignore[arg-type]
        end=start + timedelta(hours=hours),  # type: ignore[operator]
        now=utcnow() + timedelta(minutes=1),
    )
    return provider(ctx, name)


@pytest.fixture
def served(client: Client, tmp_path: Path) -> Client:
    register(client, tmp_path)
    traffic(client.settings.home, population(2000, seed=7), hour=STABLE, prefix="s")
    traffic(client.settings.home, population(2000, shift=15, seed=8), hour=SHIFTED, prefix="d")
    return client


def test_drift_is_caught_in_the_shifted_window_only(served: Client) -> None:
    assert metric(served, "drift.dataset", STABLE).value == 0.0
    shifted = metric(served, "drift.dataset", SHIFTED)
    assert shifted.value == 1.0 and shifted.detail["versions"] == {"1": 1.0}
    assert metric(served, "drift.column.age", SHIFTED).value == 1.0
    assert metric(served, "drift.column.income", SHIFTED).value == 0.0
    assert metric(served, "drift.share", SHIFTED).value == pytest.approx(2 / 3)
    score = metric(served, "drift.score.age", SHIFTED).value
    assert score is not None and score > 0.1  # normalised Wasserstein: ~15 years / 9 sd
    assert metric(served, "drift.prediction", SHIFTED).value == 1.0
    assert metric(served, "drift.prediction", STABLE).value == 0.0


def test_an_empty_window_is_insufficient_data_not_nan(served: Client) -> None:
    empty = metric(served, "drift.dataset", HOUR0 - timedelta(days=3))
    assert empty.insufficient and empty.value is None
    assert empty.detail["reason"] == "no scored rows in the window"
    quality = metric(served, "quality.missing_rate", HOUR0 - timedelta(days=3))
    assert quality.insufficient and quality.value is None


def test_quality_counts_missing_unseen_and_out_of_range(client: Client, tmp_path: Path) -> None:
    register(client, tmp_path)
    frame = population(1000, seed=9)
    frame.loc[:99, "income"] = np.nan
    frame.loc[100:149, "segment"] = "Z"  # a category the training data never had
    frame.loc[150:199, "age"] = 200.0  # far above anything in the reference
    traffic(client.settings.home, frame, hour=STABLE)
    assert metric(client, "quality.missing_rate.income", STABLE).value == pytest.approx(0.1)
    assert metric(client, "quality.missing_rate", STABLE).value == pytest.approx(100 / 3000)
    assert metric(client, "quality.unseen_categories", STABLE).value == 50
    rate = metric(client, "quality.out_of_range_rate.age", STABLE).value
    assert rate == pytest.approx(0.05, abs=0.01)
    assert metric(client, "quality.rows", STABLE).value == 1000
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        metric(client, "quality.missing_rate.nope", STABLE)


def test_schema_violations_count_refused_requests(client: Client, tmp_path: Path) -> None:
    register(client, tmp_path)
    traffic(client.settings.home, population(100), hour=STABLE, status=422, per_request=10)
    assert metric(client, "quality.schema_violations", STABLE).value == 10


def test_a_drift_monitor_raises_an_alert_once(served: Client) -> None:
    save_monitors(
        served.settings,
        "loans",
        [
            {
                "name": "inputs-drift",
                "metric": "drift.dataset",
                "window": "1h",
                "threshold": ">= 1",
                "severity": "critical",
                "schedule": {"every": "1h"},
            }
        ],
    )
    store = served.registry.store
    now = SHIFTED + timedelta(minutes=59)
    (outcome,) = run_due_monitors(served.settings, store, now=now)  # type: ignore[arg-type]
    assert outcome.status == "breach" and outcome.alert_id is not None
    quiet = run_due_monitors(served.settings, store, now=STABLE + timedelta(minutes=59), force=True)  # type: ignore[arg-type]
    assert [o.status for o in quiet] == ["ok"]


def test_a_model_without_reference_says_so(client: Client, tmp_path: Path) -> None:
    from modelward.runtimes.python import PythonModel
    from tests.monitoring.windowed import MODEL_CODE

    (tmp_path / "m.py").write_text(MODEL_CODE)
    client.register_model(
        PythonModel("m:M", code=[tmp_path / "m.py"]), "loans", input_example=population(5)
    )
    traffic(client.settings.home, population(100), hour=STABLE)
    from modelward.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no reference profile"):
        metric(client, "drift.dataset", STABLE)


def write_drift_options(client: Client, drift: object) -> None:
    import yaml

    from modelward.monitoring.monitors import monitors_path

    path = monitors_path(client.settings.home, "loans")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"monitors": [], "drift": drift}))


def test_drift_options_override_a_columns_test_and_the_share(served: Client) -> None:
    write_drift_options(served, {"share": 1.0, "columns": {"age": {"threshold": 10.0}}})
    assert metric(served, "drift.column.age", SHIFTED).value == 0.0  # a threshold nothing meets
    assert metric(served, "drift.dataset", SHIFTED).value == 0.0  # 2 of 3 columns < share 1.0
    write_drift_options(served, {"columns": {"segment": {"test": "tvd"}}})
    assert metric(served, "drift.column.segment", SHIFTED).value == 1.0


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        ({"shares": 0.5}, "must be a mapping with keys share, columns"),
        ({"share": "half"}, "share must be a number"),
        ({"columns": {"age": {"treshold": 0.2}}}, "takes only test and threshold"),
        ({"columns": {"age": {"threshold": "x"}}}, "age.threshold must be a number"),
        ({"columns": ["age"]}, "columns must map column names"),
        ({"columns": {"age": {"test": "bogus"}}}, "unknown drift test 'bogus'"),
    ],
)
def test_bad_drift_options_are_refused_by_name(served: Client, drift: object, message: str) -> None:
    write_drift_options(served, drift)
    with pytest.raises(InvalidInputError, match=message):
        metric(served, "drift.dataset", SHIFTED)

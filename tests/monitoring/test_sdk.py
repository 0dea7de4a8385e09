"""Monitoring through the SDK: labels, performance against goals, KPIs, window drift,
resources, monitors and alerts — on real logs, on both database backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from modelward.client import Client
from modelward.errors import ConflictError, InvalidInputError
from tests.monitoring.windowed import population, register, traffic


@pytest.fixture
def watched(client: Client, tmp_path: Path) -> tuple[Client, list[str]]:
    register(client, tmp_path)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    frame = population(600, shift=15, seed=3)
    ids = traffic(client.settings.home, frame, hour=hour, per_request=30)
    return client, ids


def test_labels_performance_and_goals(watched: tuple[Client, list[str]]) -> None:
    mw, ids = watched
    mw.set_goals("loans", ["accuracy>=0.99"])
    truth = pd.DataFrame({"request_id": ids, "row": 0, "label": 1})
    receipt = mw.add_labels("loans", truth)
    assert receipt.added == len(ids) and receipt.unknown_request_ids == 0
    found, goals = mw.performance("loans", "1d")
    assert found.n_labelled == len(ids) and 0 <= found.metrics["accuracy"] <= 1
    assert goals[0]["name"].startswith("goal accuracy")
    expected = "passed" if found.metrics["accuracy"] >= 0.99 else "failed"
    assert goals[0]["status"] == expected


def test_window_drift_kpis_and_resources(watched: tuple[Client, list[str]]) -> None:
    mw, _ = watched
    reports = mw.window_drift("loans", "1d")
    assert list(reports) == [1] and "age" in reports[1].drifted_columns
    (kpi,) = mw.kpis("loans", [{"name": "rows", "sql": "count(*)", "target": 100}], "1d")
    assert (kpi.value, kpi.met) == (600, True)
    summary = mw.resources("loans", "1d")
    assert summary["requests"] == 20 and summary["error_rate"] == 0


def test_monitors_alerts_and_their_transitions(watched: tuple[Client, list[str]]) -> None:
    mw, _ = watched
    mw.set_monitors(
        "loans",
        [
            {
                "name": "drifted",
                "metric": "drift.dataset",
                "window": "1d",
                "threshold": ">= 1",
                "severity": "warning",
                "schedule": {"every": "1h"},
            }
        ],
    )
    assert [m.name for m in mw.monitors("loans")] == ["drifted"]
    (outcome,) = mw.run_monitors("loans", force=True)
    assert outcome.status == "breach" and outcome.alert_id is not None
    (alert,) = mw.alerts("loans", status="open")
    assert mw.acknowledge_alert(alert.id).status == "acknowledged"
    assert mw.resolve_alert(alert.id).status == "resolved"
    with pytest.raises(ConflictError):
        mw.acknowledge_alert(alert.id)


def test_a_remote_client_refuses_rather_than_reading_local_files(
    mw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelward.remote import connect

    monkeypatch.setenv("MODELWARD_TRACKING_URI", "http://127.0.0.1:9")
    remote = connect(token="mw_x")
    for call in (
        lambda: remote.add_labels("loans", pd.DataFrame({"request_id": ["a"], "label": [1]})),
        lambda: remote.performance("loans"),
        lambda: remote.monitors("loans"),
        lambda: remote.alerts(),
    ):
        with pytest.raises(InvalidInputError, match="needs direct access"):
            call()
    assert not (mw_home / "labels").exists()

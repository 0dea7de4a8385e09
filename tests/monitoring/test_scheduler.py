"""Running due monitors over a real log and store, and the scheduler thread that runs them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from modelward.client import Client
from modelward.errors import InvalidInputError
from modelward.governance import webhooks
from modelward.monitoring import alerts, evaluate
from modelward.monitoring.evaluate import MetricContext, MetricValue, run_due_monitors
from modelward.monitoring.monitors import monitors_path, save_monitors
from modelward.monitoring.scheduler import MonitorScheduler
from modelward.store.sql import SqlStore
from tests.governance.test_webhooks import Receiver, receiver  # noqa: F401  (fixture)
from tests.monitoring.test_resources import HOUR, NOW, write_requests

SLOW = {
    "name": "slow",
    "metric": "resources.latency_p99_ms",
    "window": "1h",
    "threshold": "> 250",
    "severity": "warning",
    "schedule": {"every": "15m"},
}
ERRORS = {**SLOW, "name": "errors", "metric": "resources.error_rate", "threshold": ">= 0.05"}
TEST_VALUES: dict[str, float | None] = {}


def store_of(client: Client) -> SqlStore:
    store = client.registry.store
    assert isinstance(store, SqlStore)
    return store


def fixed_value(context: MetricContext, metric: str) -> MetricValue:
    """A provider for kpi.test.* answering what the test put in TEST_VALUES."""
    value = TEST_VALUES.get(metric)
    if metric == "kpi.test.broken":
        raise RuntimeError("the KPI source is down")
    return MetricValue(value, {"reason": "no KPI rows"}, insufficient=value is None)


@pytest.fixture(autouse=True)
def test_provider() -> Iterator[None]:
    evaluate.register_provider("kpi.test", fixed_value)
    TEST_VALUES.clear()
    yield
    evaluate._providers.pop("kpi.test", None)


def by_name(outcomes: list[evaluate.MonitorOutcome]) -> dict[str, evaluate.MonitorOutcome]:
    return {o.monitor: o for o in outcomes}


def test_a_breach_raises_and_recovery_resolves(client: Client) -> None:
    store, settings = store_of(client), client.settings
    save_monitors(settings, "churn", [SLOW, ERRORS])
    write_requests(settings.home, "churn", NOW - HOUR, [100.0] * 50 + [900.0] * 5)
    first = by_name(run_due_monitors(settings, store, now=NOW))
    assert first["slow"].status == "breach" and first["slow"].value == pytest.approx(900.0)
    assert first["errors"].status == "ok" and first["errors"].value == 0.0
    (alert,) = alerts.list_alerts(store, status="open")
    assert (alert.id, alert.monitor, alert.severity) == (first["slow"].alert_id, "slow", "warning")
    assert alert.window_end == NOW and alert.window_start == NOW - HOUR
    later = NOW + 2 * HOUR  # the slow requests have left the window
    write_requests(settings.home, "churn", later - HOUR / 2, [20.0] * 10)
    second = by_name(run_due_monitors(settings, store, now=later))
    assert second["slow"].status == "ok" and second["slow"].alert_id == alert.id
    resolved = alerts.get_alert(store, alert.id)
    assert resolved.status == "resolved" and resolved.resolved_by == alerts.SYSTEM_ACTOR


def test_only_due_monitors_run_unless_forced(client: Client) -> None:
    store, settings = store_of(client), client.settings
    hourly = {**SLOW, "name": "hourly", "metric": "kpi.test.a", "schedule": {"every": "1h"}}
    save_monitors(settings, "churn", [{**SLOW, "metric": "kpi.test.a"}, hourly])
    TEST_VALUES["kpi.test.a"] = 1.0
    assert len(run_due_monitors(settings, store, now=NOW)) == 2
    assert run_due_monitors(settings, store, now=NOW + timedelta(minutes=14)) == []
    due = run_due_monitors(settings, store, now=NOW + timedelta(minutes=15))
    assert [o.monitor for o in due] == ["slow"]
    forced = run_due_monitors(settings, store, now=NOW + timedelta(minutes=16), force=True)
    assert len(forced) == 2


def test_insufficient_data_neither_raises_nor_resolves(client: Client) -> None:
    store, settings = store_of(client), client.settings
    save_monitors(settings, "churn", [{**SLOW, "metric": "kpi.test.a"}, ERRORS])
    TEST_VALUES["kpi.test.a"] = 500.0
    (alert_id,) = [o.alert_id for o in run_due_monitors(settings, store, now=NOW) if o.alert_id]
    TEST_VALUES["kpi.test.a"] = None
    outcomes = by_name(run_due_monitors(settings, store, now=NOW + HOUR))
    for outcome in outcomes.values():  # a KPI without rows, and an empty inference log window
        assert outcome.status == "insufficient data" and outcome.value is None
    assert "no KPI rows" in outcomes["slow"].message
    assert "no requests" in outcomes["errors"].message
    assert alerts.get_alert(store, alert_id).status == "open"
    TEST_VALUES["kpi.test.a"] = float("nan")
    nan = run_due_monitors(settings, store, now=NOW + 2 * HOUR, only_model="churn")
    assert by_name(nan)["slow"].status == "insufficient data"


def test_a_failing_or_missing_provider_is_an_error_for_that_monitor_only(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, settings = store_of(client), client.settings
    monkeypatch.setitem(evaluate.BUILTIN_MODULES, "quality", "modelward.monitoring.no_such_module")
    monkeypatch.setattr(evaluate, "_loaded", set())
    providers = {k: v for k, v in evaluate._providers.items() if not k.startswith("quality")}
    monkeypatch.setattr(evaluate, "_providers", providers)
    save_monitors(
        settings,
        "churn",
        [
            {**SLOW, "name": "broken", "metric": "kpi.test.broken"},
            {**SLOW, "name": "missing", "metric": "quality.missing_rate"},
            {**SLOW, "name": "fine", "metric": "kpi.test.a"},
        ],
    )
    TEST_VALUES["kpi.test.a"] = 300.0
    outcomes = by_name(run_due_monitors(settings, store, now=NOW))
    assert (
        outcomes["broken"].status == "error" and "KPI source is down" in outcomes["broken"].message
    )
    assert outcomes["missing"].status == "error"
    assert "no metric provider for 'quality.missing_rate'" in outcomes["missing"].message
    assert outcomes["fine"].status == "breach"
    assert [a.monitor for a in alerts.list_alerts(store)] == ["fine"]


def test_a_broken_file_is_reported_and_the_other_models_still_run(client: Client) -> None:
    store, settings = store_of(client), client.settings
    save_monitors(settings, "churn", [{**SLOW, "metric": "kpi.test.a"}])
    monitors_path(settings.home, "fraud").write_text("monitors:\n  - name: x\n    windw: 1h\n")
    TEST_VALUES["kpi.test.a"] = 1.0
    outcomes = run_due_monitors(settings, store, now=NOW)
    assert {(o.model, o.status) for o in outcomes} == {("churn", "ok"), ("fraud", "error")}
    assert "'windw'" in next(o.message for o in outcomes if o.model == "fraud")
    with pytest.raises(InvalidInputError):
        run_due_monitors(settings, store, now=NOW, only_model="fraud")


def test_the_scheduler_runs_monitors_and_delivers_alerts(
    client: Client,
    receiver: Receiver,  # noqa: F811
) -> None:
    store, settings = store_of(client), client.settings
    webhooks.add(store, receiver.url, ["alert."], actor="ops")
    save_monitors(settings, "churn", [{**SLOW, "metric": "kpi.test.a"}])
    TEST_VALUES["kpi.test.a"] = 999.0
    with MonitorScheduler(settings, store, interval=0.05) as scheduler:
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not scheduler.running and scheduler.rounds >= 1 and scheduler.failures == 0
    event = json.loads(receiver.received[0][1])["event"]
    assert event["action"] == "alert.raised" and event["after"]["value"] == 999.0
    assert alerts.list_alerts(store)[0].count == 1  # not due again within 15 minutes


def test_a_failing_round_is_logged_and_the_thread_keeps_going(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    unconnected = SqlStore(client.settings.database_url)  # every round fails on it
    save_monitors(client.settings, "churn", [{**SLOW, "metric": "kpi.test.a"}])
    scheduler = MonitorScheduler(client.settings, unconnected, interval=0.02)
    scheduler.start()
    deadline = time.monotonic() + 10
    while scheduler.failures < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert scheduler.running and scheduler.failures >= 3
    scheduler.stop(timeout=5)
    assert not scheduler.running and "RuntimeError" in (scheduler.last_error or "")
    assert "monitor scheduler round failed" in caplog.text


def test_stop_is_prompt_with_a_long_interval(client: Client) -> None:
    scheduler = MonitorScheduler(client.settings, store_of(client), interval=3600, dispatch=False)
    scheduler.start()
    scheduler.start()  # already running: no second thread
    time.sleep(0.1)
    began = time.monotonic()
    scheduler.stop(timeout=5)
    assert time.monotonic() - began < 2 and scheduler.rounds == 1


def test_a_bad_interval_is_refused(client: Client) -> None:
    with pytest.raises(InvalidInputError, match="interval"):
        MonitorScheduler(client.settings, store_of(client), interval=0)

"""``modelward monitor …`` through the real entry point, on a real log and the embedded store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from modelward.config import load_settings
from modelward.monitoring.monitors import monitors_path, save_monitors
from modelward.store.tables import utcnow
from tests.monitoring.test_resources import write_requests
from tests.support.cli import Run

SLOW = {
    "name": "slow",
    "metric": "resources.latency_p99_ms",
    "window": "1h",
    "threshold": "> 250",
    "severity": "critical",
    "schedule": {"every": "15m"},
}


def slow_traffic(home: Path) -> None:
    write_requests(home, "churn", utcnow() - timedelta(minutes=30), [100.0] * 20 + [800.0] * 2)


def test_run_list_alerts_ack_resolve(run: Run, mw_home: Path) -> None:
    save_monitors(load_settings(), "churn", [SLOW])
    slow_traffic(mw_home)
    listed = json.loads(run("monitor", "list", "--json").out)
    assert listed[0]["name"] == "slow" and listed[0]["last_run_at"] is None
    ran = run("monitor", "run", "--json")
    assert ran.code == 0
    (outcome,) = json.loads(ran.out)
    assert outcome["status"] == "breach" and outcome["value"] == 800.0
    assert "no monitor is due" in run("monitor", "run").out
    table = run("monitor", "run", "--model", "churn", "--force").out
    assert "breach" in table and "slow" in table
    (alert,) = json.loads(run("monitor", "alerts", "--status", "open", "--json").out)
    assert alert["id"] == outcome["alert_id"] and alert["count"] == 2
    assert "critical" in run("monitor", "alerts").out
    acked = run("monitor", "ack", str(alert["id"]))
    assert acked.code == 0 and "acknowledged by tester" in acked.out
    again = run("monitor", "ack", str(alert["id"]))
    assert again.code == 5 and "cannot become acknowledged" in again.err
    assert "resolved by tester" in run("monitor", "resolve", str(alert["id"])).out
    assert json.loads(run("monitor", "alerts", "--status", "open", "--json").out) == []
    assert "breach" in run("monitor", "list").out


def test_unknown_alerts_and_bad_options_exit_with_their_codes(run: Run, mw_home: Path) -> None:
    missing = run("monitor", "resolve", "7")
    assert missing.code == 4 and "no alert 7" in missing.err
    assert run("monitor", "alerts", "--status", "closed").code == 3
    bad_window = run("monitor", "resources", "churn", "--window", "an hour")
    assert bad_window.code == 3 and "window 'an hour'" in bad_window.err
    monitors_path(mw_home, "churn").parent.mkdir(parents=True)
    monitors_path(mw_home, "churn").write_text("monitors:\n  - {name: x, severty: info}\n")
    broken = run("monitor", "run", "--model", "churn")
    assert broken.code == 3 and "'severty'" in broken.err and "churn.yaml" in broken.err


def test_resources_shows_the_window(run: Run, mw_home: Path) -> None:
    slow_traffic(mw_home)
    summary = json.loads(run("monitor", "resources", "churn", "--window", "1h", "--json").out)
    assert summary["requests"] == 22 and summary["latency_p99_ms"] > 250
    assert summary["error_rate"] == 0.0 and summary["cpu_seconds"] is None
    text = run("monitor", "resources", "churn").out
    assert "latency_p99_ms" in text and "no data" in text
    empty = json.loads(run("monitor", "resources", "fraud", "--json").out)
    assert empty["requests"] == 0 and empty["latency_p50_ms"] is None

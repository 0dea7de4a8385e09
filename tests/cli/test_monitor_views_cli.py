"""``modelward monitor performance|kpis|drift`` on real logs through the real entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml

from modelward.client import Client
from modelward.errors import EXIT_INVALID
from tests.monitoring.windowed import population, register, traffic
from tests.support.cli import Run


def served(client: Client, tmp_path: Path) -> list[str]:
    register(client, tmp_path)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return traffic(client.settings.home, population(400, shift=15), hour=hour, per_request=40)


def test_drift_of_the_window(sqlite_client: Client, tmp_path: Path, run: Run) -> None:
    served(sqlite_client, tmp_path)
    shown = run("monitor", "drift", "loans", "--window", "1d", "--json")
    assert shown.code == 0, shown.err
    report = json.loads(shown.out)["1"]
    assert report["dataset_drifted"] is True and "age" in report["drifted_columns"]
    table = run("monitor", "drift", "loans", "--window", "1d")
    assert table.code == 0 and "DRIFTED" in table.out
    empty = run("monitor", "drift", "loans", "--window", "2020-01-01/2020-01-02")
    assert empty.code == 0 and "insufficient data" in empty.out
    bad = run("monitor", "drift", "loans", "--window", "yesterday")
    assert bad.code == EXIT_INVALID and "window" in bad.err


def test_performance_against_goals(sqlite_client: Client, tmp_path: Path, run: Run) -> None:
    ids = served(sqlite_client, tmp_path)
    sqlite_client.set_goals("loans", ["accuracy>=0.5"])
    none_yet = run("monitor", "performance", "loans")
    assert none_yet.code == 0 and "insufficient data" in none_yet.out
    sqlite_client.add_labels("loans", pd.DataFrame({"request_id": ids, "label": 1}))
    shown = run("monitor", "performance", "loans", "--json")
    assert shown.code == 0, shown.err
    body = json.loads(shown.out)
    assert body["n_labelled"] == len(ids) and "accuracy" in body["metrics"]
    assert body["goals"][0]["status"] in ("passed", "failed")
    assert "accuracy goals" in run("monitor", "performance", "loans").out


def test_kpis_from_the_monitor_file(sqlite_client: Client, tmp_path: Path, run: Run) -> None:
    served(sqlite_client, tmp_path)
    path = sqlite_client.settings.home / "monitors" / "loans.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    kpis = [
        {"name": "approved", "sql": "sum(output__prediction)", "target": 1, "direction": "higher"}
    ]
    path.write_text(yaml.safe_dump({"monitors": [], "kpis": kpis}))
    shown = run("monitor", "kpis", "loans", "--json")
    assert shown.code == 0, shown.err
    (kpi,) = json.loads(shown.out)
    assert kpi["name"] == "approved" and kpi["value"] > 1 and kpi["met"] is True
    path.write_text(yaml.safe_dump({"kpis": [{"name": "x", "sq": "1"}]}))
    bad = run("monitor", "kpis", "loans")
    assert bad.code == EXIT_INVALID and "sq" in bad.err

"""``modelward monitor report`` through the real entry point, on a real log and the embedded store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from modelward.client import Client
from modelward.store.tables import utcnow
from tests.monitoring.windowed import population, register, traffic
from tests.support.cli import Run


def test_report_of_recent_traffic(run: Run, sqlite_client: Client, tmp_path: Path) -> None:
    register(sqlite_client, tmp_path)
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    traffic(sqlite_client.settings.home, population(500, shift=15, seed=2), hour=hour)
    out = tmp_path / "report.html"
    done = run("monitor", "report", "loans", "--window", "1d", "--out", str(out))
    assert done.code == 0, done.err
    assert "24 steps of 1h" in done.out and "500 scored rows, 10 requests" in done.out
    page = out.read_text()
    assert "<h1>Monitoring report: loans</h1>" in page and "age: wasserstein" in page
    assert "<script" not in page and "http" not in page
    daily = run("monitor", "report", "loans", "--out", str(out), "--version", "1", "--step", "1d")
    assert daily.code == 0 and "7 steps of 1d" in daily.out


def test_an_empty_window_still_writes_a_report(
    run: Run, sqlite_client: Client, tmp_path: Path
) -> None:
    register(sqlite_client, tmp_path)
    out = tmp_path / "empty.html"
    done = run("monitor", "report", "loans", "--out", str(out))
    assert done.code == 0, done.err
    assert "0 scored rows, 0 requests, 0 labelled rows" in done.out
    assert "insufficient data: no scored rows in the window" in out.read_text()


def test_errors_exit_with_their_codes_and_write_nothing(
    run: Run, sqlite_client: Client, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    unknown = run("monitor", "report", "nope", "--out", str(out))
    assert unknown.code == 4 and "nope" in unknown.err and "hint:" in unknown.err
    register(sqlite_client, tmp_path)
    missing = run("monitor", "report", "loans", "--out", str(tmp_path / "no" / "r.html"))
    assert missing.code == 3 and "does not exist" in missing.err
    folder = run("monitor", "report", "loans", "--out", str(tmp_path))
    assert folder.code == 3 and "is a folder" in folder.err
    step = run("monitor", "report", "loans", "--out", str(out), "--step", "45m")
    assert step.code == 3 and "whole number of hours" in step.err
    window = run("monitor", "report", "loans", "--out", str(out), "--window", "a week")
    assert window.code == 3 and "a week" in window.err
    version = run("monitor", "report", "loans", "--out", str(out), "--version", "5")
    assert version.code == 4
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
    assert run("monitor", "report", "loans").code == 2  # --out is required

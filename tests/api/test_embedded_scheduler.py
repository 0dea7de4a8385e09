"""The control plane runs due monitors in an embedded scheduler while it serves."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from modelward.api.app import create_app
from modelward.config import load_settings
from modelward.monitoring.monitors import save_monitors
from modelward.monitoring.scheduler import MonitorScheduler
from modelward.store.tables import MonitorStateRow


def test_the_scheduler_runs_while_the_app_serves_and_stops_with_it(mw_home: Path) -> None:
    settings = load_settings()
    save_monitors(
        settings,
        "quiet",
        [
            {
                "name": "slow",
                "metric": "resources.latency_p99_ms",
                "window": "1h",
                "threshold": "> 250",
                "severity": "info",
                "schedule": {"every": "1m"},
            }
        ],
    )
    app = create_app(settings, scheduler_interval=0.05)
    with TestClient(app) as http:
        scheduler = app.state.scheduler
        assert isinstance(scheduler, MonitorScheduler) and scheduler.running
        deadline = time.monotonic() + 20
        while scheduler.rounds < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scheduler.rounds >= 2 and scheduler.failures == 0, scheduler.last_error
        assert http.get("/api/v1/health").status_code == 200
        with Session(app.state.context.store.engine) as session:
            state = session.get(MonitorStateRow, ("quiet", "slow"))
        assert state is not None and state.last_status == "insufficient data"  # no traffic yet
    assert not scheduler.running


def test_no_interval_means_no_scheduler(mw_home: Path) -> None:
    app = create_app(load_settings())
    with TestClient(app):
        assert app.state.scheduler is None

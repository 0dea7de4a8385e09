"""Worker CPU and RSS are sampled while the server runs and land where monitors read them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import uvloop

from modelward.client import Client
from modelward.monitoring.resources import resource_summary
from modelward.scoring.config import ServeConfig
from modelward.scoring.server import build_app
from tests.scoring.models import register_sklearn


def test_the_server_records_worker_samples_for_the_resources_monitor(
    sqlite_client: Client,
) -> None:
    ref = register_sklearn(sqlite_client, "sampled")
    app = build_app([ref], ServeConfig(), sqlite_client)
    assert app.sampler is not None
    app.sampler.interval = 0.05
    started = datetime.now(UTC)

    async def serve_a_while() -> None:
        await app.startup()
        try:
            await asyncio.sleep(0.5)  # several samples of the idle worker
        finally:
            await app.shutdown()

    uvloop.run(serve_a_while())
    summary = resource_summary(
        sqlite_client.settings.home, "sampled", started, datetime.now(UTC) + timedelta(seconds=1)
    )
    (worker,) = summary["workers"]  # one model worker process, keyed by its pid
    assert summary["samples"] >= 3 and worker.startswith("v1/w") and worker != "v1/w0"
    assert summary["peak_rss_mb"] > 20  # a Python process with scikit-learn loaded
    assert summary["cpu_seconds"] is not None and summary["cpu_seconds"] >= 0


def test_no_inference_log_means_no_sampling(sqlite_client: Client) -> None:
    ref = register_sklearn(sqlite_client, "quiet")
    app = build_app([ref], ServeConfig(inference_log=False), sqlite_client)
    assert app.sampler is None

"""Resource samples of model workers over time: CPU seconds and RSS, for monitoring.

Prometheus ``/metrics`` shows the present; monitors need the past. Every ``interval`` seconds
the sampler reads each worker's counters (cheap: ``/proc``) and hands them to
:func:`modelward.monitoring.resources.record_resource_sample`, which buffers them and writes
Parquet in batches off the event loop. At shutdown the buffer is flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

from modelward.monitoring.resources import flush_resource_samples, record_resource_sample
from modelward.scoring.served import Catalog

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = 15.0


class ResourceSampler:
    """Samples every served model's workers while the server runs."""

    def __init__(self, catalog: Catalog, home: Path, interval: float = DEFAULT_INTERVAL) -> None:
        self.catalog = catalog
        self.home = home
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Take a first sample now, then one every ``interval`` seconds."""
        self._task = asyncio.create_task(self._loop())

    def sample(self) -> int:
        """Record one sample of each live worker; returns how many."""
        now = datetime.now(UTC)
        taken = 0
        for served in self.catalog.models:
            for stat in served.pool.stats():
                if not stat["alive"] or stat["cpu_seconds"] is None:
                    continue
                record_resource_sample(
                    self.home,
                    served.name,
                    served.version.version,
                    # the process id: unique across HTTP workers, each with its own pools, and
                    # new after a restart (whose counters start again at 0)
                    int(stat["pid"] or stat["worker"]),
                    float(stat["cpu_seconds"]),
                    int(stat["rss_bytes"] or 0),
                    now,
                )
                taken += 1
        return taken

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sample)  # a full buffer is written in this call
            except Exception:  # sampling must never take the server down
                log.exception("sampling worker resources failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop sampling and write what is buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.sample)  # the last picture, before the workers stop
        await asyncio.to_thread(flush_resource_samples)

"""Model worker processes: scoring, and every way a model can fail without taking others down."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelward.client import Client
from modelward.errors import ModelFailedError, OverloadedError, WorkerUnavailableError
from modelward.scoring.batching import BatchConfig, Batcher
from modelward.scoring.pool import ModelPool, PoolConfig
from tests.scoring.models import register_trouble

FAST = PoolConfig(request_timeout=2.0, backoff_initial=0.05, start_timeout=60)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def x(*values: float) -> dict[str, np.ndarray]:
    return {"x": np.array(values, dtype=float)}


async def _with_pool(
    ref: str, config: PoolConfig, body: Callable[[ModelPool], Awaitable[Any]]
) -> Any:
    pool = ModelPool(ref, config)
    await pool.start()
    try:
        return await body(pool)
    finally:
        await pool.close()
        for worker in pool.workers:
            assert (
                worker.process is None or worker.process.returncode is not None
            )  # nothing left behind


async def call(
    pool: ModelPool, columns: dict[str, np.ndarray], params: dict[str, Any] | None = None
) -> Any:
    worker = await pool.acquire()
    try:
        return await worker.call(columns, params or {})
    finally:
        await pool.release(worker)


async def until_alive(pool: ModelPool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while pool.alive < len(pool.workers):
        assert time.monotonic() < deadline, "worker was not restarted"
        await asyncio.sleep(0.05)


@pytest.fixture
def trouble(sqlite_client: Client, tmp_path: Path) -> str:
    return register_trouble(sqlite_client, tmp_path / "code")


def test_scores_and_reports_stats(trouble: str) -> None:
    async def body(pool: ModelPool) -> None:
        out = await call(pool, x(1, 2, 3))
        np.testing.assert_array_equal(out["prediction"], [2, 4, 6])
        stats = pool.stats()
        assert stats[0]["alive"] and stats[0]["rss_bytes"] > 0 and stats[0]["cpu_seconds"] >= 0
        assert pool.load_seconds > 0

    run(_with_pool(trouble, FAST, body))


@pytest.mark.parametrize(
    ("marker", "reason"),
    [(-1, "exited \\(code 1\\)"), (-5, "signal SIGSEGV"), (-2, "did not answer")],
)
def test_crash_or_hang_fails_only_that_request_then_the_worker_is_back(
    trouble: str, marker: float, reason: str
) -> None:
    async def body(pool: ModelPool) -> None:
        first_pid = pool.workers[0].pid
        with pytest.raises(WorkerUnavailableError, match=reason) as info:
            await call(pool, x(1, marker))
        assert info.value.http_status == 503
        await until_alive(pool)
        assert pool.workers[0].pid != first_pid and pool.restarts == 1
        out = await call(pool, x(5))
        np.testing.assert_array_equal(out["prediction"], [10])

    run(_with_pool(trouble, PoolConfig(request_timeout=1.0, backoff_initial=0.05), body))


def test_memory_ceiling_kills_and_restarts(trouble: str) -> None:
    async def body(pool: ModelPool) -> None:
        with pytest.raises(WorkerUnavailableError, match="memory ceiling of 300 MB"):
            await call(pool, x(-3))
        await until_alive(pool)
        np.testing.assert_array_equal((await call(pool, x(1)))["prediction"], [2])

    run(
        _with_pool(
            trouble, PoolConfig(request_timeout=20, memory_limit_mb=300, backoff_initial=0.05), body
        )
    )


def test_model_exception_is_a_500_and_the_worker_survives(trouble: str) -> None:
    async def body(pool: ModelPool) -> None:
        pid = pool.workers[0].pid
        with pytest.raises(ModelFailedError, match="x = -4 is not allowed"):
            await call(pool, x(-4))
        assert pool.workers[0].pid == pid and pool.restarts == 0
        np.testing.assert_array_equal((await call(pool, x(1)))["prediction"], [2])

    run(_with_pool(trouble, FAST, body))


def test_a_model_that_fails_to_load_is_reported(
    trouble: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MW_TEST_FAIL_LOAD", "1")
    with pytest.raises(WorkerUnavailableError, match="load failed on purpose"):
        run(_with_pool(trouble, FAST, lambda pool: asyncio.sleep(0)))


def test_concurrent_requests_are_merged_and_split_back(trouble: str) -> None:
    sizes: list[int] = []

    async def body(pool: ModelPool) -> None:
        batcher = Batcher(pool, BatchConfig(max_batch_size=64), on_batch=sizes.append)
        batcher.start()
        results = await asyncio.gather(
            *(batcher.submit(x(float(i), float(i) + 0.5), {"delay": 0.2}, 2) for i in range(12))
        )
        for i, out in enumerate(results):
            np.testing.assert_array_equal(out["prediction"], [2 * i, 2 * i + 1])
        await batcher.close()

    run(_with_pool(trouble, FAST, body))
    assert sum(sizes) == 24 and len(sizes) < 12  # fewer predict calls than requests


def test_backpressure_answers_overloaded_instead_of_queueing_forever(trouble: str) -> None:
    async def body(pool: ModelPool) -> None:
        batcher = Batcher(pool, BatchConfig(max_queue=2, row_wise=False))
        batcher.start()
        tasks = [asyncio.create_task(batcher.submit(x(1), {"delay": 0.5}, 1)) for _ in range(4)]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        overloaded = [r for r in results if isinstance(r, OverloadedError)]
        assert overloaded and overloaded[0].http_status == 503
        assert any(isinstance(r, dict) for r in results)
        await batcher.close()

    run(_with_pool(trouble, FAST, body))


def test_requests_waiting_for_a_dead_pool_fail_fast(trouble: str) -> None:
    async def body(pool: ModelPool) -> None:
        batcher = Batcher(pool, BatchConfig())
        batcher.start()
        for worker in pool.workers:
            await worker.kill("killed by the test")
        started = time.monotonic()
        with pytest.raises(WorkerUnavailableError):
            await batcher.submit(x(1), {}, 1)
        assert time.monotonic() - started < 5
        await batcher.close()

    run(_with_pool(trouble, PoolConfig(request_timeout=2, backoff_initial=5), body))


def test_no_worker_processes_outlive_the_pool(trouble: str) -> None:
    pids: list[int] = []

    async def body(pool: ModelPool) -> None:
        pids.extend(w.pid for w in pool.workers if w.pid)

    run(_with_pool(trouble, PoolConfig(workers=2), body))
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_isolation_none_scores_inside_this_process(trouble: str) -> None:
    async def body(pool: ModelPool) -> None:
        assert pool.workers[0].pid == os.getpid()
        np.testing.assert_array_equal((await call(pool, x(1, 2)))["prediction"], [2, 4])
        with pytest.raises(ModelFailedError, match="x = -4 is not allowed"):
            await call(pool, x(-4))
        np.testing.assert_array_equal((await call(pool, x(3)))["prediction"], [6])

    run(_with_pool(trouble, PoolConfig(in_process=True), body))

"""Resource metrics over a real inference log (DuckDB) and real worker sample files (Parquet)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from modelward.config import load_settings
from modelward.errors import InvalidInputError
from modelward.monitoring import resources
from modelward.monitoring.evaluate import MetricContext, provider_for
from modelward.monitoring.inference_log import InferenceLog, InferenceRecord, inference_root
from modelward.store.sql import SqlStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def write_requests(
    home: Path,
    model: str,
    start: datetime,
    latencies: Sequence[float],
    *,
    statuses: Sequence[int] | None = None,
    version: int = 1,
    rows: int = 2,
    step: timedelta = timedelta(seconds=1),
) -> None:
    """Serve ``len(latencies)`` requests through the real inference log writer."""
    log = InferenceLog(inference_root(home), flush_interval=0.05)
    log.start()
    for i, latency in enumerate(latencies):
        status = statuses[i] if statuses else 200
        log.record(
            InferenceRecord(
                request_id=f"{model}-{version}-{start.timestamp()}-{i}",
                time=start + i * step,
                model=model,
                version=version,
                status=status,
                latency_ms=float(latency),
                inputs={"x": np.arange(rows, dtype=np.float64)},
                outputs={"y": np.zeros(rows)} if status == 200 else {},
                error=None if status == 200 else "failed",
            )
        )
    log.close()


def context(home: Path, model: str = "churn", version: int | None = None) -> MetricContext:
    settings = load_settings()
    return MetricContext(
        home, settings, SqlStore("sqlite://"), model, version, NOW - HOUR, NOW, NOW
    )


def test_latency_throughput_and_errors_are_per_request(mw_home: Path) -> None:
    latencies = np.arange(1.0, 101.0)
    statuses = [500] * 5 + [503] * 3 + [422] * 4 + [200] * 88
    write_requests(
        mw_home, "churn", NOW - HOUR, latencies, statuses=statuses, step=timedelta(seconds=30)
    )
    write_requests(mw_home, "churn", NOW - 2 * HOUR, [9999.0] * 10)  # before the window
    write_requests(mw_home, "churn", NOW, [9999.0] * 10)  # the window's end is excluded
    write_requests(mw_home, "fraud", NOW - HOUR / 2, [9999.0] * 10)  # another model
    stats = resources.request_stats(mw_home, "churn", NOW - HOUR, NOW)
    assert stats["requests"] == 100 and stats["rows"] == 200
    for p in (50, 95, 99):
        assert stats[f"latency_p{p}_ms"] == pytest.approx(np.percentile(latencies, p))
    assert stats["throughput_rps"] == pytest.approx(100 / 3600)
    assert stats["rows_per_second"] == pytest.approx(200 / 3600)
    assert stats["error_rate"] == pytest.approx(8 / 100)
    assert stats["client_error_rate"] == pytest.approx(4 / 100)


def test_a_version_filter_keeps_only_that_version(mw_home: Path) -> None:
    write_requests(mw_home, "churn", NOW - HOUR / 2, [10.0] * 4, version=1)
    write_requests(mw_home, "churn", NOW - HOUR / 2, [30.0] * 6, version=2)
    provide = provider_for("resources.requests")
    assert provide is not None
    assert provide(context(mw_home), "resources.requests").value == 10
    two = provide(context(mw_home, version=2), "resources.latency_p50_ms")
    assert two.value == 30.0 and two.detail["requests"] == 6


def test_an_empty_window_is_insufficient_data_never_nan(mw_home: Path) -> None:
    provide = provider_for("resources.error_rate")
    assert provide is not None
    nothing = provide(context(mw_home), "resources.error_rate")  # no log at all
    assert nothing.insufficient and nothing.value is None
    write_requests(mw_home, "churn", NOW - 3 * HOUR, [5.0] * 3)
    for metric in ("resources.latency_p99_ms", "resources.throughput_rps", "resources.error_rate"):
        result = provide(context(mw_home), metric)
        assert (
            result.insufficient
            and result.value is None
            and "no requests" in result.detail["reason"]
        )


def test_a_window_over_midnight_reads_both_days(mw_home: Path) -> None:
    midnight = datetime(2024, 5, 2, tzinfo=UTC)
    write_requests(
        mw_home, "churn", midnight - timedelta(minutes=10), [1.0] * 20, step=timedelta(minutes=1)
    )
    stats = resources.request_stats(mw_home, "churn", midnight - HOUR, midnight + HOUR)
    assert stats["requests"] == 20
    folders = {p.name for p in (inference_root(mw_home) / "model=churn").iterdir()}
    assert folders == {"date=2024-05-01", "date=2024-05-02"}


def sample_log(home: Path) -> resources.ResourceLog:
    return resources.ResourceLog(home, flush_rows=4, flush_interval=3600)


def test_worker_samples_are_batched_into_parquet_partitions(mw_home: Path) -> None:
    sink = sample_log(mw_home)
    for i in range(3):
        sink.record("churn", 1, 0, float(i), 100 << 20, NOW - HOUR / 2 + i * timedelta(minutes=1))
    folder = resources.resources_root(mw_home) / "model=churn" / "date=2024-05-01"
    assert not folder.exists()  # still buffered: three samples < flush_rows
    sink.record("churn", 1, 0, 3.0, 100 << 20, NOW - HOUR / 4)
    assert len(list(folder.glob("*.parquet"))) == 1  # one file for the batch
    assert len(resources.read_samples(mw_home, "churn", NOW - HOUR, NOW)) == 4


def test_cpu_seconds_add_up_increases_and_survive_a_worker_restart(mw_home: Path) -> None:
    sink = sample_log(mw_home)
    t = NOW - HOUR / 2
    # worker 0: 10 → 12 → 15 (5 s); worker 1: 4 → 6, restarts, 1 → 3 (2 + 1 + 2 = 5 s)
    for minute, (worker, cpu, rss_mb) in enumerate(
        [(0, 10, 100), (1, 4, 50), (0, 12, 180), (1, 6, 60), (0, 15, 120), (1, 1, 40), (1, 3, 45)]
    ):
        sink.record("churn", 2, worker, cpu, rss_mb << 20, t + timedelta(minutes=minute))
    sink.record("churn", 2, 0, 99.0, 999 << 20, NOW + timedelta(minutes=1))  # after the window
    sink.flush()
    provide = provider_for("resources.cpu_seconds")
    assert provide is not None
    cpu = provide(context(mw_home), "resources.cpu_seconds")
    assert cpu.value == pytest.approx(10.0)
    assert cpu.detail["workers"]["v2/w0"]["cpu_seconds"] == pytest.approx(5.0)
    assert provide(context(mw_home), "resources.peak_rss_mb").value == pytest.approx(180.0)
    assert provide(context(mw_home, version=1), "resources.peak_rss_mb").insufficient


def test_one_sample_per_worker_is_not_enough_for_cpu(mw_home: Path) -> None:
    resources.record_resource_sample(mw_home, "churn", 1, 0, 5.0, 10 << 20, NOW - HOUR / 2)
    assert resources.flush_resource_samples() == 1
    provide = provider_for("resources.cpu_seconds")
    assert provide is not None
    cpu = provide(context(mw_home), "resources.cpu_seconds")
    assert cpu.insufficient and cpu.value is None and "two" in cpu.detail["reason"]
    assert provide(context(mw_home), "resources.peak_rss_mb").value == pytest.approx(10.0)


def test_a_damaged_sample_file_is_skipped(mw_home: Path) -> None:
    sink = sample_log(mw_home)
    sink.record("churn", 1, 0, 1.0, 10 << 20, NOW - HOUR / 2)
    sink.flush()
    folder = resources.resources_root(mw_home) / "model=churn" / "date=2024-05-01"
    (folder / "part-broken.parquet").write_bytes(b"not parquet at all")
    assert len(resources.read_samples(mw_home, "churn", NOW - HOUR, NOW)) == 1


def test_bad_samples_are_refused(mw_home: Path) -> None:
    sink = sample_log(mw_home)
    with pytest.raises(InvalidInputError, match="time zone"):
        sink.record("churn", 1, 0, 1.0, 1, datetime(2024, 5, 1, 12))
    with pytest.raises(InvalidInputError):
        sink.record("../etc", 1, 0, 1.0, 1, NOW)


def test_the_summary_has_every_metric(mw_home: Path) -> None:
    write_requests(mw_home, "churn", NOW - HOUR / 2, [2.0, 4.0])
    summary = resources.resource_summary(mw_home, "churn", NOW - HOUR, NOW)
    assert summary["requests"] == 2 and summary["latency_p50_ms"] == pytest.approx(3.0)
    assert summary["cpu_seconds"] is None and summary["samples"] == 0
    with pytest.raises(InvalidInputError):
        resources.provide_metric(context(mw_home), "resources.nonsense")

"""Resource metrics: latency, throughput and errors from the inference log; CPU and memory of
model workers from resource samples.

Latency percentiles, throughput and error rate are computed per *request* (a request scoring
many rows counts once) with DuckDB over the inference log. The error rate is the share of
requests answered with a server error (status ≥ 500: a worker crashed or timed out, the model
was overloaded or not ready); client errors (4xx, bad input) are the caller's fault and are
reported apart as ``client_error_rate``.

CPU seconds and peak RSS come from samples the scoring server takes of its workers, written by
:func:`record_resource_sample` to ``MODELWARD_HOME/resources/model=<name>/date=<day>/`` in
batches. Worker CPU counters are cumulative and restart at 0 with a new process, so CPU seconds
in a window add up the increases between consecutive samples of each worker.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time as clock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from modelward.errors import InvalidInputError, NotFoundError
from modelward.monitoring.evaluate import MetricContext, MetricValue, register_provider
from modelward.monitoring.logquery import query_logs
from modelward.monitoring.monitors import RESOURCE_METRICS
from modelward.monitoring.partitions import part_name, partition_dir, write_table
from modelward.monitoring.tables import TIME_TYPE
from modelward.refs import check_name

log = logging.getLogger(__name__)

SAMPLE_SCHEMA = pa.schema(
    [
        ("time", TIME_TYPE),
        ("model", pa.string()),
        ("version", pa.int64()),
        ("worker", pa.int64()),
        ("cpu_seconds", pa.float64()),
        ("rss_bytes", pa.int64()),
    ]
)
LOG_METRICS = (
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "throughput_rps",
    "rows_per_second",
    "requests",
    "error_rate",
)
_MB = 1024 * 1024


def resources_root(home: Path) -> Path:
    """Where worker resource samples live."""
    return home / "resources"


class ResourceLog:
    """Buffers worker samples and writes them as one Parquet file per model and day, once
    ``flush_rows`` samples wait or the oldest has waited ``flush_interval`` seconds."""

    def __init__(self, home: Path, *, flush_rows: int = 500, flush_interval: float = 60.0) -> None:
        self.root = resources_root(home)
        self.flush_rows, self.flush_interval = flush_rows, flush_interval
        self._rows: list[tuple[datetime, str, int, int, float, int]] = []
        self._since = 0.0
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def record(
        self,
        model: str,
        version: int,
        worker: int,
        cpu_seconds: float,
        rss_bytes: int,
        at: datetime,
    ) -> None:
        """Buffer one sample (flushing when the batch is full or old)."""
        check_name(model)
        if at.utcoffset() is None:
            raise InvalidInputError(
                "a resource sample needs a time with a time zone", hint="pass datetime.now(UTC)"
            )
        with self._lock:
            if not self._rows:
                self._since = clock.monotonic()
            self._rows.append((at, model, version, worker, float(cpu_seconds), int(rss_bytes)))
            due = len(self._rows) >= self.flush_rows
            due = due or clock.monotonic() - self._since >= self.flush_interval
        if due:
            self.flush()

    def flush(self) -> int:
        """Write what waits; on a write error the samples stay buffered for the next flush."""
        with self._lock:
            rows, self._rows = self._rows, []
        groups: dict[tuple[str, date], list[tuple[Any, ...]]] = {}
        for row in rows:
            groups.setdefault((row[1], row[0].astimezone(UTC).date()), []).append(row)
        written = 0
        for (model, day), group in groups.items():
            table = pa.Table.from_pylist(
                [dict(zip(SAMPLE_SCHEMA.names, r, strict=True)) for r in group],
                schema=SAMPLE_SCHEMA,
            )
            try:
                write_table(partition_dir(self.root, model, day), part_name(next(self._seq)), table)
                written += len(group)
            except OSError:
                log.exception("cannot write %d resource samples of %s", len(group), model)
                with self._lock:
                    self._rows[:0] = group
        return written


_logs: dict[Path, ResourceLog] = {}
_logs_lock = threading.Lock()


def record_resource_sample(
    home: Path,
    model: str,
    version: int,
    worker: int,
    cpu_seconds: float,
    rss_bytes: int,
    time: datetime,
) -> None:
    """Buffer a sample of one model worker's CPU seconds (cumulative) and RSS; cheap to call."""
    with _logs_lock:
        sink = _logs.setdefault(home, ResourceLog(home))
    sink.record(model, version, worker, cpu_seconds, rss_bytes, time)


@atexit.register
def flush_resource_samples() -> int:
    """Write every buffered sample now (also run when the process exits)."""
    with _logs_lock:
        sinks = list(_logs.values())
    return sum(sink.flush() for sink in sinks)


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(UTC).date(), (end - timedelta(microseconds=1)).astimezone(UTC)
    return [first + timedelta(days=i) for i in range((last.date() - first).days + 1)]


def read_samples(
    home: Path, model: str, start: datetime, end: datetime, version: int | None = None
) -> pd.DataFrame:
    """The samples of ``model`` with ``start <= time < end``; damaged files are skipped."""
    tables = []
    for day in _days(start, end):
        for file in sorted(partition_dir(resources_root(home), model, day).glob("*.parquet")):
            try:
                tables.append(pq.read_table(file, schema=SAMPLE_SCHEMA))
            except (OSError, pa.ArrowException) as exc:
                log.warning("skipping unreadable resource file %s: %s", file, exc)
    frame = (
        pa.concat_tables(tables).to_pandas() if tables else SAMPLE_SCHEMA.empty_table().to_pandas()
    )
    keep = (frame["time"] >= start) & (frame["time"] < end)
    if version is not None:
        keep &= frame["version"] == version
    return frame[keep].sort_values(["version", "worker", "time"]).reset_index(drop=True)


def worker_usage(samples: pd.DataFrame) -> dict[str, Any]:
    """CPU seconds used and peak RSS, overall and per worker, from ``samples``."""
    if samples.empty:
        return {"samples": 0, "cpu_seconds": None, "peak_rss_mb": None, "workers": {}}
    grouped = samples.groupby(["version", "worker"])
    previous = grouped["cpu_seconds"].shift()
    delta = (samples["cpu_seconds"] - previous).where(lambda d: d >= 0, samples["cpu_seconds"])
    delta = delta.where(previous.notna(), 0.0)  # the first sample of a worker is the baseline
    workers = {
        f"v{v}/w{w}": {
            "cpu_seconds": float(delta[rows.index].sum()),
            "peak_rss_mb": float(rows["rss_bytes"].max()) / _MB,
            "samples": len(rows),
        }
        for (v, w), rows in grouped
    }
    paired = bool(grouped.size().max() >= 2)
    return {
        "samples": len(samples),
        "cpu_seconds": float(delta.sum()) if paired else None,
        "peak_rss_mb": float(samples["rss_bytes"].max()) / _MB,
        "workers": workers,
    }


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def request_stats(
    home: Path, model: str, start: datetime, end: datetime, version: int | None = None
) -> dict[str, Any]:
    """Per-request latency percentiles, throughput and error rates of ``model`` in the window."""
    days = _days(start, end)
    where = (
        f"model = {_lit(check_name(model))} AND date BETWEEN DATE '{days[0]}' AND "
        f"DATE '{days[-1]}' AND time >= TIMESTAMPTZ '{start.isoformat()}' "
        f"AND time < TIMESTAMPTZ '{end.isoformat()}'"
    )
    if version is not None:
        where += f" AND version = {int(version)}"
    sql = f"""
        WITH req AS (
            SELECT request_id, any_value(status) AS status,
                   any_value(latency_ms) AS latency_ms, count(*) AS rows
            FROM inference WHERE {where} GROUP BY request_id)
        SELECT count(*) AS requests, coalesce(sum(rows), 0) AS rows,
               quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.95) AS p95,
               quantile_cont(latency_ms, 0.99) AS p99,
               count(*) FILTER (WHERE status >= 500) AS server_errors,
               count(*) FILTER (WHERE status >= 400 AND status < 500) AS client_errors
        FROM req"""
    try:
        row = query_logs(home, sql).iloc[0]
    except NotFoundError:
        row = pd.Series({"requests": 0, "rows": 0})
    requests, seconds = int(row["requests"]), (end - start).total_seconds()
    if requests == 0:
        return {"requests": 0, "rows": 0, "throughput_rps": 0.0, "rows_per_second": 0.0}
    return {
        "requests": requests,
        "rows": int(row["rows"]),
        "latency_p50_ms": float(row["p50"]),
        "latency_p95_ms": float(row["p95"]),
        "latency_p99_ms": float(row["p99"]),
        "throughput_rps": requests / seconds,
        "rows_per_second": int(row["rows"]) / seconds,
        "error_rate": int(row["server_errors"]) / requests,
        "client_error_rate": int(row["client_errors"]) / requests,
    }


def resource_summary(
    home: Path, model: str, start: datetime, end: datetime, version: int | None = None
) -> dict[str, Any]:
    """Every resource metric of ``model`` over ``[start, end)`` (``None`` where data is missing)."""
    stats = request_stats(home, model, start, end, version)
    usage = worker_usage(read_samples(home, model, start, end, version))
    summary: dict[str, Any] = {"model": model, "version": version}
    summary.update({"window_start": start.isoformat(), "window_end": end.isoformat()})
    summary.update({name: stats.get(name) for name in LOG_METRICS})
    summary["client_error_rate"] = stats.get("client_error_rate")
    summary.update({k: usage[k] for k in ("cpu_seconds", "peak_rss_mb", "samples", "workers")})
    return summary


def provide_metric(context: MetricContext, metric: str) -> MetricValue:
    """The ``resources.*`` metric provider."""
    name = metric.split(".", 1)[1] if "." in metric else ""
    if name not in RESOURCE_METRICS:
        raise InvalidInputError(
            f"unknown resources metric {metric!r}",
            hint=f"resources metrics: {', '.join(RESOURCE_METRICS)}",
        )
    args = (context.home, context.model, context.start, context.end, context.version)
    if name in LOG_METRICS:
        stats = request_stats(*args)
        if stats["requests"] == 0:  # an empty window is no evidence, even for throughput
            return MetricValue(None, {**stats, "reason": "no requests in the window"}, True)
        return MetricValue(float(stats[name]), stats)
    usage = worker_usage(read_samples(*args))
    if usage[name] is None:
        reason = "not enough worker samples in the window (CPU needs two per worker)"
        return MetricValue(None, {**usage, "reason": reason}, True)
    return MetricValue(float(usage[name]), usage)


register_provider("resources", provide_metric)

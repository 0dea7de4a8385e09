"""A model's monitoring report: every monitored quantity per time step over a window.

:func:`build_report` assembles JSON-ready data — drift per input column and of the outputs,
performance against the model's accuracy goals, business KPIs against their targets, latency,
throughput, errors, CPU and memory — one value per step bucket, from the same building blocks
the monitors use (hourly rolled-up profiles, labelled records, the log, worker samples).
:func:`write_report` renders it as one self-contained HTML file (no rows, no scripts).

Buckets are ``step`` long and end at the first whole hour at or after the window's end, so that
each holds whole hourly profiles and a 7-day window at ``1d`` is exactly 7 buckets. A bucket
without data holds ``None`` (drawn as a gap), never NaN. A section that cannot be computed (a
broken KPI expression, no reference profile) carries a ``note`` and the rest still renders.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelward.artifacts import ArtifactStore
from modelward.config import Settings
from modelward.errors import InvalidInputError, NotFoundError
from modelward.governance.goals import parse_goals
from modelward.monitoring.drift import ColumnDrift, DriftReport, compare
from modelward.monitoring.evaluate import MetricContext
from modelward.monitoring.kpis import compute_kpis
from modelward.monitoring.logquery import query_logs
from modelward.monitoring.monitors import format_duration, parse_duration
from modelward.monitoring.performance import performance
from modelward.monitoring.profiles import DatasetProfile
from modelward.monitoring.providers import kpi_specs, performance_options
from modelward.monitoring.reference import ReferenceProfile, load_reference
from modelward.monitoring.resources import read_samples, worker_usage
from modelward.monitoring.rollup import rollup, versions_in_window, window_profile
from modelward.monitoring.window_metrics import drift_options
from modelward.monitoring.windows import parse_window, to_utc
from modelward.store.sql import SqlStore
from modelward.store.tables import utcnow

FORMAT = "modelward.monitor-report/1"
HOUR, MICRO = timedelta(hours=1), timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BUCKETS = 168  # a week of hours; more points than that make charts no easier to read
INSUFFICIENT = "insufficient data"
LATENCIES = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
Span = tuple[datetime, datetime]


def build_report(
    settings: Settings,
    store: SqlStore,
    artifacts: ArtifactStore,
    model: str,
    window: str,
    *,
    version: int | None = None,
    step: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report data of ``model`` (one version, or all) over ``window`` in ``step`` buckets."""
    moment = to_utc(now) if now is not None else utcnow()
    found = store.get_model(model)  # an unknown model: ModelNotFoundError, with near misses
    if version is not None:
        store.get_version(model, version)
    start, end = parse_window(window, now=moment)
    spans = bucket_spans(start, end, step)
    start, end = spans[0][0], spans[-1][1]
    rollup(store, artifacts, settings.home, model=model, now=moment)
    ctx = MetricContext(settings.home, settings, store, model, version, start, end, moment)
    versions = [version] if version is not None else versions_in_window(store, model, start, end)
    references = {v: _reference(store, artifacts, model, v) for v in versions}
    log = _log_series(ctx, spans)
    report: dict[str, Any] = {
        "format": FORMAT,
        "model": model,
        "version": version,
        "versions": versions,
        "window": {"text": window, "start": start.isoformat(), "end": end.isoformat()},
        "step": format_duration(spans[0][1] - spans[0][0]),
        "generated_at": moment.isoformat(),
        "buckets": [{"start": a.isoformat(), "end": b.isoformat()} for a, b in spans],
        "drift": _guarded(lambda: _series(ctx, spans, references, "input", log["rows"])),
        "prediction_drift": _guarded(
            lambda: _series(ctx, spans, references, "output", log["rows"])
        ),
        "performance": _guarded(lambda: _performance_section(ctx, spans, found.goals, log)),
        "kpis": _guarded(lambda: _kpi_section(ctx, spans, log)),
        "resources": _resources_section(ctx, spans, log),
        "summary": _guarded(lambda: _summary(ctx, references)),
    }
    report["rows"] = {
        "scored": sum(log["rows"]),
        "requests": sum(log["requests"]),
        "labelled": sum(report["performance"].get("n_labelled", [])),
    }
    return report


def write_report(
    settings: Settings,
    store: SqlStore,
    artifacts: ArtifactStore,
    model: str,
    window: str,
    out: Path | str,
    *,
    version: int | None = None,
    step: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Build the report and write it to ``out`` as HTML, atomically; returns the data with
    ``out`` and ``bytes`` added. The folder is checked first, so a typo fails fast."""
    from modelward.monitoring.report_html import check_target, write_page

    target = check_target(out)
    report = build_report(
        settings, store, artifacts, model, window, version=version, step=step, now=now
    )
    return {**report, "out": str(target), "bytes": write_page(target, report)}


def bucket_spans(start: datetime, end: datetime, step: str | None) -> list[Span]:
    """Step-long buckets covering the window's length, ending at the first whole hour at or
    after ``end`` (default step: 1h for windows up to 2 days, else 1d)."""
    length = end - start
    default = HOUR if length <= timedelta(days=2) else 24 * HOUR
    size = parse_duration(step, "--step") if step else default
    if size % HOUR:
        raise InvalidInputError(
            f"--step {step} is not a whole number of hours",
            hint="profiles are hourly: use 1h, 6h or 1d",
        )
    count = math.ceil(length / size)
    if count > MAX_BUCKETS:
        raise InvalidInputError(
            f"a {format_duration(length)} window in {format_duration(size)} steps makes {count} "
            f"points per chart, more than {MAX_BUCKETS}",
            hint="give a longer --step (e.g. 1d) or a shorter --window",
        )
    last = end if end == _floor_hour(end) else _floor_hour(end) + HOUR
    first = last - count * size
    return [(first + i * size, first + (i + 1) * size) for i in range(count)]


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _guarded(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A section, or a note saying why it could not be computed (bad monitor file entries)."""
    try:
        return build()
    except (InvalidInputError, NotFoundError) as exc:
        return {"note": str(exc)}


def _reference(
    store: SqlStore, artifacts: ArtifactStore, model: str, version: int
) -> ReferenceProfile | None:
    try:
        return load_reference(artifacts, store.get_version(model, version).lineage)
    except NotFoundError:  # a deleted version or a lost blob: no comparison for it
        return None


def _severity(column: ColumnDrift) -> tuple[bool, float]:
    """How far a column is into drift: drifted first, then its score against its threshold."""
    if column.p_value is not None:
        return column.drifted, column.threshold / max(column.p_value, 1e-300)
    return column.drifted, (column.distance or 0.0) / max(column.threshold, 1e-300)


def _score(column: ColumnDrift) -> float | None:
    if column.statistic is None:
        return None
    return column.p_value if column.p_value is not None else column.distance


def _compare_versions(
    ctx: MetricContext, span: Span, references: dict[int, ReferenceProfile | None], kind: str
) -> dict[int, DriftReport]:
    """Each version's drift report over ``span``, of its inputs or of its outputs."""
    share, overrides = drift_options(ctx)
    reports = {}
    for version, reference in references.items():
        current = window_profile(ctx.store, ctx.model, version, *span, kind=kind)
        side = None if reference is None else _side(reference, kind)
        if current is None or current.rows == 0 or side is None:
            continue
        names = [c for c in side.columns if c in current.columns]
        wanted = {k: v for k, v in overrides.items() if k in names} if kind == "input" else {}
        reports[version] = compare(side, current, columns=names, overrides=wanted, share=share)
    return reports


def _side(reference: ReferenceProfile, kind: str) -> DatasetProfile | None:
    return reference.inputs if kind == "input" else reference.outputs


def _series(
    ctx: MetricContext,
    spans: list[Span],
    references: dict[int, ReferenceProfile | None],
    kind: str,
    rows: list[int],
) -> dict[str, Any]:
    """Per column, the worst version's score per bucket (as the monitors judge several
    versions); and the share of drifted columns per bucket."""
    columns: dict[str, dict[str, Any]] = {}
    shares: list[float | None] = []
    n = len(spans)
    for i, span in enumerate(spans):
        reports = _compare_versions(ctx, span, references, kind) if rows[i] else {}
        tested = [r for r in reports.values() if r.tested]
        shares.append(max(r.drift_share for r in tested) if tested else None)
        worst: dict[str, ColumnDrift] = {}
        for col in (c for r in tested for c in r.tested):
            if col.column not in worst or _severity(col) > _severity(worst[col.column]):
                worst[col.column] = col
        for name, col in worst.items():
            entry = columns.setdefault(name, {"scores": [None] * n, "drifted": [None] * n})
            entry.update(test=col.test, threshold=col.threshold, kind=col.kind)
            entry["direction"] = "below" if col.p_value is not None else "above"
            entry["scores"][i], entry["drifted"][i] = _score(col), col.drifted
    out: dict[str, Any] = {"columns": columns, "share": shares}
    out["share_threshold"] = drift_options(ctx)[0]
    if all(v is None for v in shares):
        out["note"] = _no_drift_reason(references, rows, kind)
    return out


def _no_drift_reason(
    references: dict[int, ReferenceProfile | None], rows: list[int], kind: str
) -> str:
    if not sum(rows):
        return f"{INSUFFICIENT}: no scored rows in the window"
    what = "reference profile" if kind == "input" else "reference profile of its outputs"
    missing = [
        str(v)
        for v, r in references.items()
        if r is None or (kind == "output" and r.outputs is None)
    ]
    if missing:
        return f"{INSUFFICIENT}: version(s) {', '.join(missing)} have no {what}"
    return f"{INSUFFICIENT}: no column could be tested"


def _performance_section(
    ctx: MetricContext, spans: list[Span], goals: list[dict[str, Any]], log: dict[str, list[Any]]
) -> dict[str, Any]:
    """The model's metrics per bucket on labelled records, with its accuracy goals."""
    options = performance_options(ctx)
    metrics: dict[str, list[float | None]] = {}
    labelled = [0] * len(spans)
    task: str | None = None
    for i, (start, end) in enumerate(spans):
        if not log["rows"][i]:
            continue  # no answered rows: nothing can be labelled (and no query is needed)
        found = performance(ctx.home, ctx.model, start, end, version=ctx.version, **options)
        labelled[i], task = found.n_labelled, task or found.task
        for name, value in found.metrics.items():
            metrics.setdefault(name, [None] * len(spans))[i] = value
    out: dict[str, Any] = {"task": task, "metrics": metrics, "n_labelled": labelled}
    out["goals"] = [g.to_dict() for g in parse_goals(goals, where="accuracy goal")]
    if not metrics:
        out["note"] = f"{INSUFFICIENT}: no labelled records in the window"
    return out


def _kpi_section(
    ctx: MetricContext, spans: list[Span], log: dict[str, list[Any]]
) -> dict[str, Any]:
    """Each business KPI per bucket, with its target (KPIs cover every version)."""
    specs = kpi_specs(ctx)
    series: dict[str, dict[str, Any]] = {
        s.name: {"values": [None] * len(spans), "target": s.target, "direction": s.direction}
        for s in specs
    }
    for i, (start, end) in enumerate(spans):
        if specs and log["all_requests"][i]:
            for result in compute_kpis(ctx.home, ctx.model, specs, start, end):
                series[result.name]["values"][i] = result.value
    out: dict[str, Any] = {"series": series}
    if not specs:
        out["note"] = "no KPIs defined (see docs/labels-and-kpis.md)"
    elif all(v is None for s in series.values() for v in s["values"]):
        out["note"] = f"{INSUFFICIENT}: no rows in the window"
    return out


def _log_series(ctx: MetricContext, spans: list[Span]) -> dict[str, list[Any]]:
    """Per bucket, from one query over the log: requests (each counts once, as in
    :func:`modelward.monitoring.resources.request_stats`), answered rows, latency
    percentiles, server errors; and the requests of every version (for KPIs)."""
    first, size = spans[0][0], (spans[0][1] - spans[0][0]) // MICRO
    mine = "TRUE" if ctx.version is None else f"version = {int(ctx.version)}"
    model = ctx.model.replace("'", "''")
    sql = f"""
        WITH req AS (
            SELECT request_id, any_value(status) AS status, any_value(latency_ms) AS latency_ms,
                   bool_or({mine}) AS mine, count(*) FILTER (WHERE {mine}) AS rows,
                   (epoch_us(min(time)) - {(first - EPOCH) // MICRO}) // {size} AS bucket
            FROM inference
            WHERE model = '{model}' AND date BETWEEN DATE '{first.date()}'
              AND DATE '{spans[-1][1].date()}' AND time >= TIMESTAMPTZ '{first.isoformat()}'
              AND time < TIMESTAMPTZ '{spans[-1][1].isoformat()}'
            GROUP BY request_id)
        SELECT bucket, count(*) AS all_requests, count(*) FILTER (WHERE mine) AS requests,
               coalesce(sum(rows) FILTER (WHERE status = 200), 0) AS rows,
               quantile_cont(latency_ms, 0.5) FILTER (WHERE mine) AS latency_p50_ms,
               quantile_cont(latency_ms, 0.95) FILTER (WHERE mine) AS latency_p95_ms,
               quantile_cont(latency_ms, 0.99) FILTER (WHERE mine) AS latency_p99_ms,
               count(*) FILTER (WHERE mine AND status >= 500) AS server_errors
        FROM req GROUP BY bucket"""
    names = ("all_requests", "requests", "rows", *LATENCIES, "server_errors")
    out: dict[str, list[Any]] = {
        name: [0 if i < 3 else None for _ in spans] for i, name in enumerate(names)
    }
    try:
        frame = query_logs(ctx.home, sql)
    except NotFoundError:  # no log at all yet
        return out
    for row in frame.to_dict("records"):
        for i, name in enumerate(names):
            value = row[name]
            out[name][int(row["bucket"])] = int(value) if i < 3 else _finite(value)
    return out


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _resources_section(
    ctx: MetricContext, spans: list[Span], log: dict[str, list[Any]]
) -> dict[str, Any]:
    """Latency, throughput, errors, CPU and memory per bucket; ``None`` where no data came."""
    size = (spans[0][1] - spans[0][0]).total_seconds()
    requests = log["requests"]
    out: dict[str, Any] = {name: log[name] for name in LATENCIES}
    out["requests"] = requests
    out["throughput_rps"] = [n / size if n else None for n in requests]
    out["error_rate"] = [
        e / n if n else None for e, n in zip(log["server_errors"], requests, strict=True)
    ]
    samples = read_samples(ctx.home, ctx.model, ctx.start, ctx.end, ctx.version)
    for name in ("cpu_seconds", "peak_rss_mb"):
        out[name] = []
    for start, end in spans:
        usage = worker_usage(samples[(samples["time"] >= start) & (samples["time"] < end)])
        for name in ("cpu_seconds", "peak_rss_mb"):
            out[name].append(usage[name])
    if not sum(requests):
        out["note"] = f"{INSUFFICIENT}: no requests in the window"
    return out


def _summary(ctx: MetricContext, references: dict[int, ReferenceProfile | None]) -> dict[str, Any]:
    """The whole window's drift per version and column (what the charts end in)."""
    reports = _compare_versions(ctx, (ctx.start, ctx.end), references, "input")
    versions = {
        str(v): {
            "drift_share": r.drift_share if r.tested else None,
            "dataset_drifted": r.dataset_drifted,
            "columns": [{**c.to_dict(), "score": _score(c)} for c in r.columns],
        }
        for v, r in reports.items()
    }
    out: dict[str, Any] = {"versions": versions}
    if not versions:
        out["note"] = f"{INSUFFICIENT}: nothing to compare in the window"
    return out

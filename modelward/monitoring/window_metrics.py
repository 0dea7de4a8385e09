"""Drift and data-quality metrics of a window, from the rolled-up profiles.

Each call first rolls up the model's new log files (incremental: only new files are read), then
merges the hourly profiles of the window per version and compares them with that version's
reference profile. With several versions in the window (a canary, a rollout), each is judged
against its own reference and the worst value is the metric's (the detail lists every version).

Metric names (documented in docs/monitoring.md):
``drift.dataset`` (1 when the dataset drifted, else 0), ``drift.share`` (share of drifted
columns), ``drift.column.<col>`` (1/0), ``drift.score.<col>`` (the test's p-value or distance),
``drift.prediction`` (1 when an output column drifted), ``quality.missing_rate[.<col>]``,
``quality.type_violations``, ``quality.unseen_categories``, ``quality.out_of_range_rate``,
``quality.rows``, ``quality.schema_violations`` (requests the server refused as invalid, 422).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from modelward.artifacts import open_artifact_store
from modelward.errors import InvalidInputError, NotFoundError, VersionNotFoundError
from modelward.monitoring.drift import DriftReport, Override, compare
from modelward.monitoring.evaluate import MetricContext, MetricValue, register_provider
from modelward.monitoring.logquery import query_logs
from modelward.monitoring.monitors import file_section
from modelward.monitoring.profiles import ColumnProfile, DatasetProfile
from modelward.monitoring.reference import ReferenceProfile, load_reference
from modelward.monitoring.rollup import rollup, versions_in_window, window_profile
from modelward.refs import check_name

DRIFT_KEYS = ("share", "columns")
Measure = Callable[[ReferenceProfile | None, DatasetProfile, DatasetProfile | None], float | None]


def provide_drift(ctx: MetricContext, metric: str) -> MetricValue:
    """``drift.*``: see the module docstring."""
    parts = metric.split(".", 2)
    what = parts[1] if len(parts) > 1 else ""
    column = parts[2] if len(parts) > 2 else None
    share, overrides = drift_options(ctx)

    def measure(
        reference: ReferenceProfile | None, inputs: DatasetProfile, outputs: DatasetProfile | None
    ) -> float | None:
        if reference is None:
            raise NotFoundError(
                f"{ctx.model} has no reference profile to compare with",
                hint="register the version with training_data=… (see docs/monitoring.md)",
            )
        if what == "prediction":
            if reference.outputs is None or outputs is None:
                return None
            shared = [c for c in reference.outputs.columns if c in outputs.columns]
            return float(_report(reference.outputs, outputs, shared, share, {}).dataset_drifted)
        report = _report(reference.inputs, inputs, [column] if column else None, share, overrides)
        if what == "dataset":
            return float(report.dataset_drifted)
        if what == "share":
            return report.drift_share
        if what in ("column", "score") and column:
            (found,) = report.columns
            if found.statistic is None:
                return None
            if what == "column":
                return float(found.drifted)
            return found.p_value if found.p_value is not None else found.distance
        raise InvalidInputError(
            f"unknown drift metric {metric!r}",
            hint="drift.dataset, drift.share, drift.prediction, drift.column.<col>, "
            "drift.score.<col>",
        )

    return _per_version(ctx, measure, worst=max)


def provide_quality(ctx: MetricContext, metric: str) -> MetricValue:
    """``quality.*``: see the module docstring."""
    parts = metric.split(".", 2)
    what = parts[1] if len(parts) > 1 else ""
    column = parts[2] if len(parts) > 2 else None
    if what == "schema_violations":
        return _schema_violations(ctx)
    measures: dict[str, Measure] = {
        "missing_rate": lambda r, i, o: _missing_rate(i, column),
        "type_violations": lambda r, i, o: float(sum(c.invalid for c in _cols(i, column))),
        "unseen_categories": lambda r, i, o: float(sum(c.unseen or 0 for c in _cols(i, column))),
        "out_of_range_rate": lambda r, i, o: _out_of_range(r, i, column),
        "rows": lambda r, i, o: float(i.rows),
    }
    if what not in measures:
        raise InvalidInputError(
            f"unknown quality metric {metric!r}",
            hint=f"quality.<{'|'.join([*measures, 'schema_violations'])}>[.<column>]",
        )
    total = what in ("type_violations", "unseen_categories", "rows")
    return _per_version(ctx, measures[what], worst=sum if total else max)


def drift_options(ctx: MetricContext) -> tuple[float, dict[str, Override]]:
    """The ``drift`` section of the monitor file: dataset share and per-column overrides."""
    options = file_section(ctx.home, ctx.model, "drift") or {}
    where = f"monitor file of {ctx.model}: drift"
    if not isinstance(options, Mapping) or set(options) - set(DRIFT_KEYS):
        raise InvalidInputError(
            f"{where} must be a mapping with keys {', '.join(DRIFT_KEYS)}",
            hint="e.g. drift: {share: 0.5, columns: {age: {test: psi, threshold: 0.2}}}",
        )
    overrides: dict[str, Override] = {}
    columns = options.get("columns") or {}
    if not isinstance(columns, Mapping):
        raise InvalidInputError(
            f"{where}: columns must map column names to {{test, threshold}}",
            hint="e.g. columns: {age: {test: psi, threshold: 0.2}}",
        )
    for name, given in columns.items():
        if not isinstance(given, Mapping) or set(given) - {"test", "threshold"}:
            raise InvalidInputError(
                f"{where}: column {name!r} takes only test and threshold", hint="see docs/drift.md"
            )
        threshold = given.get("threshold")
        overrides[str(name)] = Override(
            given.get("test"),
            None if threshold is None else _number(threshold, f"{where}: {name}.threshold"),
        )
    return _number(options.get("share", 0.5), f"{where}: share"), overrides


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{where} must be a number, not {value!r}", hint="e.g. 0.2")
    return float(value)


def _report(
    reference: DatasetProfile,
    current: DatasetProfile,
    names: list[str] | None,
    share: float,
    overrides: dict[str, Override],
) -> DriftReport:
    columns = names if names is not None else [c for c in reference.columns if c in current.columns]
    wanted = {k: v for k, v in overrides.items() if k in columns}
    return compare(reference, current, columns=columns, overrides=wanted, share=share)


def _per_version(
    ctx: MetricContext, measure: Measure, *, worst: Callable[[list[float]], float]
) -> MetricValue:
    artifacts = open_artifact_store(ctx.settings.artifact_root)
    rolled = rollup(ctx.store, artifacts, ctx.home, model=ctx.model, now=ctx.now)
    skipped = [f for r in rolled for f in r.skipped_files]
    versions = (
        [ctx.version]
        if ctx.version is not None
        else versions_in_window(ctx.store, ctx.model, ctx.start, ctx.end)
    )
    values: dict[str, float] = {}
    for version in versions:
        inputs = window_profile(ctx.store, ctx.model, version, ctx.start, ctx.end)
        if inputs is None or inputs.rows == 0:
            continue
        outputs = window_profile(ctx.store, ctx.model, version, ctx.start, ctx.end, kind="output")
        try:
            reference = load_reference(artifacts, ctx.store.get_version(ctx.model, version).lineage)
        except VersionNotFoundError:  # deleted since it served: nothing to compare with
            reference = None
        value = measure(reference, inputs, outputs)
        if value is not None and np.isfinite(value):
            values[str(version)] = float(value)
    detail: dict[str, Any] = {"versions": values, "skipped_files": skipped}
    if not values:
        detail["reason"] = "no scored rows in the window"
        return MetricValue(None, detail, insufficient=True)
    return MetricValue(worst(list(values.values())), detail)


def _cols(profile: DatasetProfile, column: str | None) -> list[ColumnProfile]:
    if column is None:
        return list(profile.columns.values())
    if column not in profile.columns:
        raise InvalidInputError(
            f"no column {column!r} in the window's inputs",
            hint=f"columns: {', '.join(sorted(profile.columns))}",
        )
    return [profile.columns[column]]


def _missing_rate(profile: DatasetProfile, column: str | None) -> float | None:
    cols = _cols(profile, column)
    cells = sum(c.rows for c in cols)
    return sum(c.missing for c in cols) / cells if cells else None


def _out_of_range(
    reference: ReferenceProfile | None, current: DatasetProfile, column: str | None
) -> float | None:
    """Share of numeric values below the reference minimum or above its maximum (estimated
    from the quantile sketch, within its stated error)."""
    if reference is None:
        return None
    outside = total = 0.0
    for name, col in current.columns.items():
        ref = reference.inputs.columns.get(name)
        if (column and name != column) or ref is None or col.kind != "numeric":
            continue
        if ref.minimum is None or ref.maximum is None or col.sketch is None:
            continue
        edges = np.array([ref.minimum, np.nextafter(ref.maximum, np.inf)])
        below, _, above = col.sketch.weighted_counts(edges)
        outside += below + above
        total += col.valid
    return outside / total if total else None


def _schema_violations(ctx: MetricContext) -> MetricValue:
    """Requests in the window the scoring server refused as invalid input (status 422)."""
    model = check_name(ctx.model)  # a checked name: letters, digits, ., _ and - only
    start, end = ctx.start.isoformat(), ctx.end.isoformat()
    version = "" if ctx.version is None else f" AND version = {int(ctx.version)}"
    sql = (
        "SELECT count(DISTINCT request_id) AS n FROM inference WHERE status = 422"
        f" AND model = '{model}' AND time >= TIMESTAMPTZ '{start}'"
        f" AND time < TIMESTAMPTZ '{end}'{version}"
    )
    try:
        frame = query_logs(ctx.home, sql)
    except NotFoundError:
        return MetricValue(None, {"reason": "no inference log yet"}, insufficient=True)
    return MetricValue(
        float(frame["n"].iloc[0]), {"skipped_files": frame.attrs.get("skipped_files", [])}
    )


register_provider("drift", provide_drift)
register_provider("quality", provide_quality)

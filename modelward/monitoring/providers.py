"""Metric providers for monitors: performance on labelled records, business KPIs, drift and
data quality over the rolled-up window profiles.

Each reads what it needs from the model's monitor file (``MODELWARD_HOME/monitors/<model>.yaml``):

```yaml
performance: {task: classification, prediction_column: prediction, score_column: proba_1}
kpis:
  - {name: approved_amount, sql: "sum(input__amount) FILTER (WHERE output__decision = 'approve')",
     target: 100000, direction: higher}
drift: {share: 0.5, columns: {age: {test: psi, threshold: 0.2}}}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelward.errors import InvalidInputError
from modelward.monitoring.evaluate import MetricContext, MetricValue, register_provider
from modelward.monitoring.kpis import KpiSpec, compute_kpis, parse_kpis
from modelward.monitoring.monitors import file_section, monitors_path
from modelward.monitoring.performance import performance

PERFORMANCE_KEYS = ("task", "prediction_column", "score_column")


def performance_options(ctx: MetricContext) -> dict[str, Any]:
    """The ``performance`` section, checked: task, prediction and score columns."""
    options = file_section(ctx.home, ctx.model, "performance") or {}
    where = f"{monitors_path(ctx.home, ctx.model)}: performance"
    if not isinstance(options, Mapping):
        raise InvalidInputError(f"{where} must be a mapping", hint="e.g. {task: classification}")
    unknown = sorted(set(options) - set(PERFORMANCE_KEYS))
    if unknown:
        raise InvalidInputError(
            f"{where}: unknown key(s) {', '.join(unknown)}",
            hint=f"allowed: {', '.join(PERFORMANCE_KEYS)}",
        )
    return dict(options)


def kpi_specs(ctx: MetricContext) -> list[KpiSpec]:
    """The ``kpis`` section of the model's monitor file, parsed strictly."""
    return model_kpis(ctx.home, ctx.model)


def model_kpis(home: Path, model: str) -> list[KpiSpec]:
    """The ``kpis`` section of ``model``'s monitor file under ``home``, parsed strictly."""
    items = file_section(home, model, "kpis") or []
    if not isinstance(items, list):
        raise InvalidInputError(
            f"{monitors_path(home, model)}: kpis must be a list of KPIs",
            hint="each: {name, sql, target, direction}",
        )
    return parse_kpis(items)


def provide_performance(ctx: MetricContext, metric: str) -> MetricValue:
    """``performance.<metric>`` (accuracy, roc_auc, rmse, mape, …) on the window's labels."""
    name = metric.partition(".")[2]
    found = performance(
        ctx.home, ctx.model, ctx.start, ctx.end, version=ctx.version, **performance_options(ctx)
    )
    detail: dict[str, Any] = {"n_labelled": found.n_labelled, "task": found.task}
    if not found.metrics:
        detail["reason"] = "no labelled records in the window"
        return MetricValue(None, detail, insufficient=True)
    if name not in found.metrics:
        raise InvalidInputError(
            f"performance metric {name!r} is not computed for {ctx.model} ({found.task})",
            hint=f"computed: {', '.join(sorted(found.metrics))}",
        )
    detail["metrics"] = found.metrics
    return MetricValue(found.metrics[name], detail)


def provide_kpi(ctx: MetricContext, metric: str) -> MetricValue:
    """``kpi.<name>``: the KPI's value over the window."""
    name = metric.partition(".")[2]
    specs = [s for s in kpi_specs(ctx) if s.name == name]
    if not specs:
        raise InvalidInputError(
            f"no KPI named {name!r} for {ctx.model}",
            hint=f"define it under 'kpis:' in {monitors_path(ctx.home, ctx.model)}",
        )
    (result,) = compute_kpis(ctx.home, ctx.model, specs, ctx.start, ctx.end)
    detail: dict[str, Any] = {"rows": result.rows, "target": result.target, "met": result.met}
    if result.value is None:
        detail["reason"] = "no rows in the window"
        return MetricValue(None, detail, insufficient=True)
    return MetricValue(result.value, detail)


register_provider("performance", provide_performance)
register_provider("kpi", provide_kpi)

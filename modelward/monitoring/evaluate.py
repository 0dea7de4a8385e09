"""Running due monitors: compute each metric over its window, compare, raise or resolve alerts.

Metrics come from **providers**, registered per metric prefix with :func:`register_provider`
(``drift``, ``quality``, ``performance``, ``kpi``, ``resources``, or a longer prefix such as
``drift.column``; the longest registered prefix wins). A built-in family's module is imported on
first use and registers itself; third-party packages register through the
``modelward.metric_providers`` entry-point group (name = prefix, value = the function).

A provider that finds too little data answers ``insufficient``: the outcome says so and no alert
is raised or resolved — an empty window is not evidence either way. A missing provider or a
provider that fails gives an ``error`` outcome for that monitor only.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelward.config import Settings
from modelward.errors import InvalidInputError, ModelwardError
from modelward.monitoring import alerts
from modelward.monitoring.monitors import Monitor, format_duration, load_all, load_monitors
from modelward.store.engine import WRITE_OPTION
from modelward.store.sql import SqlStore
from modelward.store.tables import MonitorStateRow, utcnow

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "modelward.metric_providers"
#: Modules that register the built-in families' providers when imported.
BUILTIN_MODULES = {
    "resources": "modelward.monitoring.resources",
    "drift": "modelward.monitoring.window_metrics",
    "quality": "modelward.monitoring.window_metrics",
    "performance": "modelward.monitoring.providers",
    "kpi": "modelward.monitoring.providers",
}
OK, BREACH, INSUFFICIENT, ERROR = "ok", "breach", "insufficient data", "error"


@dataclass(frozen=True)
class MetricContext:
    """What a provider is asked about: one model (one version, or all when ``None``) over
    the window ``[start, end)``."""

    home: Path
    settings: Settings
    store: SqlStore
    model: str
    version: int | None
    start: datetime
    end: datetime
    now: datetime


@dataclass(frozen=True)
class MetricValue:
    """A provider's answer; ``insufficient`` (or a ``None`` value) means too little data to
    judge, with the reason in ``detail["reason"]``."""

    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)
    insufficient: bool = False


Provider = Callable[[MetricContext, str], MetricValue]
_providers: dict[str, Provider] = {}
_loaded: set[str] = set()
_lock = threading.Lock()


def register_provider(prefix: str, fn: Provider) -> None:
    """Make ``fn`` compute every metric named ``prefix`` or ``prefix.…``."""
    if not prefix or prefix.startswith(".") or prefix.endswith("."):
        raise InvalidInputError(f"invalid metric prefix {prefix!r}", hint="e.g. 'drift'")
    with _lock:
        _providers[prefix] = fn


def provider_for(metric: str) -> Provider | None:
    """The provider of ``metric`` (longest matching prefix), loading built-ins on demand."""
    _load_family(metric.split(".", 1)[0])
    with _lock:
        matches = [p for p in _providers if metric == p or metric.startswith(p + ".")]
        return _providers[max(matches, key=len)] if matches else None


def _load_family(family: str) -> None:
    with _lock:
        if family in _loaded:
            return
        _loaded.add(family)
    module = BUILTIN_MODULES.get(family)
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            log.warning("no built-in metric provider for %r: %s", family, exc)
        except Exception:  # a broken provider module must not stop the other monitors
            log.exception("cannot import the metric provider module %s", module)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name == family or point.name.startswith(family + "."):
            try:
                register_provider(point.name, point.load())
            except Exception:
                log.exception("cannot load metric provider %s from %s", point.name, point.value)


@dataclass(frozen=True)
class MonitorOutcome:
    """What one monitor run found."""

    model: str
    monitor: str
    metric: str
    status: str  # ok | breach | insufficient data | error
    value: float | None
    threshold: str
    severity: str
    window_start: datetime
    window_end: datetime
    message: str
    alert_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = dict(self.__dict__)
        out["window_start"] = self.window_start.isoformat()
        out["window_end"] = self.window_end.isoformat()
        return out


def run_due_monitors(
    settings: Settings,
    store: SqlStore,
    now: datetime | None = None,
    only_model: str | None = None,
    force: bool = False,
) -> list[MonitorOutcome]:
    """Run every monitor whose schedule says it is due (all of them with ``force``)."""
    moment = now or utcnow()
    outcomes: list[MonitorOutcome] = []
    if only_model is not None:
        monitors = load_monitors(settings.home, only_model)
    else:
        monitors, broken = load_all(settings.home)
        for model, exc in broken.items():
            log.error("monitors of %s not run: %s", model, exc)
            outcomes.append(_failed_file(model, exc, moment))
    states = _last_runs(store)
    for monitor in monitors:
        last = states.get((monitor.model, monitor.name))
        if force or last is None or moment - last >= monitor.every:
            outcome = run_monitor(settings, store, monitor, moment)
            _save_state(store, outcome, moment)
            outcomes.append(outcome)
    return outcomes


def run_monitor(
    settings: Settings, store: SqlStore, monitor: Monitor, now: datetime
) -> MonitorOutcome:
    """Compute one monitor's metric over the window ending ``now`` and act on it."""
    start = now - monitor.window
    context = MetricContext(
        settings.home, settings, store, monitor.model, monitor.version, start, now, now
    )

    def outcome(status: str, message: str, value: float | None = None, **kw: Any) -> MonitorOutcome:
        return MonitorOutcome(
            monitor.model, monitor.name, monitor.metric, status, value, str(monitor.threshold),
            monitor.severity, start, now, message, **kw,
        )  # fmt: skip

    provider = provider_for(monitor.metric)
    if provider is None:
        log.error("monitor %s/%s: no provider for %s", monitor.model, monitor.name, monitor.metric)
        return outcome(ERROR, f"no metric provider for {monitor.metric!r}")
    try:
        result = provider(context, monitor.metric)
    except ModelwardError as exc:
        log.error("monitor %s/%s failed: %s", monitor.model, monitor.name, exc)
        return outcome(ERROR, str(exc))
    except Exception as exc:  # a provider's bug must not stop the other monitors
        log.exception("monitor %s/%s failed", monitor.model, monitor.name)
        return outcome(ERROR, f"{type(exc).__name__}: {exc}")
    value, detail = result.value, dict(result.detail)
    if result.insufficient or value is None or not math.isfinite(value):
        reason = str(detail.get("reason") or "too little data in the window")
        return outcome(INSUFFICIENT, f"insufficient data: {reason}", detail=detail)
    if monitor.threshold.breached(value):
        message = (
            f"{monitor.metric} is {value:g} ({monitor.threshold}) over the last "
            f"{format_duration(monitor.window)}"
        )
        breach = alerts.Breach(
            monitor.model, monitor.version, monitor.name, monitor.metric, monitor.severity,
            value, str(monitor.threshold), start, now, message,
        )  # fmt: skip
        alert = alerts.raise_alert(store, breach, now=now)
        return outcome(BREACH, message, value, alert_id=alert.id, detail=detail)
    resolved = alerts.resolve_recovered(store, monitor.model, monitor.name, value=value, now=now)
    message = f"{monitor.metric} is {value:g}" + (
        f"; alert {resolved.id} resolved" if resolved else ""
    )
    return outcome(OK, message, value, alert_id=resolved.id if resolved else None, detail=detail)


def _failed_file(model: str, exc: ModelwardError, now: datetime) -> MonitorOutcome:
    return MonitorOutcome(model, "*", "", ERROR, None, "", "", now, now, str(exc))


def _last_runs(store: SqlStore) -> dict[tuple[str, str], datetime]:
    with Session(store.engine) as session:
        rows = session.execute(
            select(MonitorStateRow.model, MonitorStateRow.monitor, MonitorStateRow.last_run_at)
        )
        return {(m, n): at for m, n, at in rows}


def _save_state(store: SqlStore, outcome: MonitorOutcome, now: datetime) -> None:
    engine = store.engine.execution_options(**{WRITE_OPTION: True})
    try:
        with Session(engine) as session, session.begin():
            row = session.get(MonitorStateRow, (outcome.model, outcome.monitor))
            if row is None:
                row = MonitorStateRow(model=outcome.model, monitor=outcome.monitor)
                session.add(row)
            row.last_run_at, row.last_value = now, outcome.value
            row.last_status, row.last_message = outcome.status, outcome.message
    except IntegrityError:  # another scheduler recorded the same run first
        log.info("state of monitor %s/%s written concurrently", outcome.model, outcome.monitor)


def monitor_states(
    settings: Settings, store: SqlStore, only_model: str | None = None
) -> list[dict[str, Any]]:
    """Each defined monitor with its last run (for ``modelward monitor list``)."""
    monitors = (
        load_monitors(settings.home, only_model) if only_model else load_all(settings.home)[0]
    )
    with Session(store.engine) as session:
        rows = {(r.model, r.monitor): r for r in session.scalars(select(MonitorStateRow))}
    out = []
    for m in monitors:
        row = rows.get((m.model, m.name))
        out.append(
            {
                "model": m.model,
                **m.to_dict(),
                "last_run_at": row.last_run_at.isoformat() if row else None,
                "last_status": row.last_status if row else None,
                "last_value": row.last_value if row else None,
                "next_due_at": (row.last_run_at + m.every).isoformat() if row else "now",
            }
        )
    return out

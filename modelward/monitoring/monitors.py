"""Monitor definitions: what to watch on a model, over which window, against which threshold.

Definitions live in ``MODELWARD_HOME/monitors/<model>.yaml`` (or are saved there by
:func:`save_monitors`). Parsing is strict, as for governance policies: an unknown key, an
unknown severity or metric family, a malformed window, threshold or schedule is an
:class:`InvalidInputError` naming the file, the monitor and the field — never a silent default.
The format is documented in docs/monitoring.md.
"""

from __future__ import annotations

import operator
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from modelward.config import Settings
from modelward.errors import InvalidInputError, ModelwardError
from modelward.refs import check_name

#: Top-level sections of a monitor file: the monitors, and what their metrics need (read by
#: modelward.monitoring.providers): business KPIs, performance options, drift options.
SECTIONS = ("monitors", "kpis", "performance", "drift")
KEYS = ("name", "metric", "window", "threshold", "severity", "schedule", "version")
REQUIRED = ("name", "metric", "window", "threshold", "severity", "schedule")
SCHEDULE_KEYS = ("every",)
SEVERITIES = ("info", "warning", "critical")
FAMILIES = ("drift", "quality", "performance", "kpi", "resources")
#: The metrics of the resources family (computed by modelward.monitoring.resources).
RESOURCE_METRICS = (
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "throughput_rps",
    "rows_per_second",
    "requests",
    "error_rate",
    "cpu_seconds",
    "peak_rss_mb",
)
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$")
_MONITOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Threshold:
    """A comparison that, when true of a metric's value, means the monitor is breached."""

    op: str
    value: float

    def breached(self, metric_value: float) -> bool:
        """Whether ``metric_value`` crosses the threshold."""
        return COMPARISONS[self.op](metric_value, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Monitor:
    """One monitor of one model."""

    model: str
    name: str
    metric: str
    window: timedelta
    threshold: Threshold
    severity: str
    every: timedelta
    version: int | None = None
    source: str = "given"

    @property
    def family(self) -> str:
        """The metric's first part: which provider computes it."""
        return self.metric.split(".", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        """The monitor in its file format."""
        out: dict[str, Any] = {
            "name": self.name,
            "metric": self.metric,
            "window": format_duration(self.window),
            "threshold": str(self.threshold),
            "severity": self.severity,
            "schedule": {"every": format_duration(self.every)},
        }
        if self.version is not None:
            out["version"] = self.version
        return out


def monitors_dir(home: Path) -> Path:
    """Where monitor files live."""
    return home / "monitors"


def monitors_path(home: Path, model: str) -> Path:
    """The monitor file of ``model``."""
    return monitors_dir(home) / f"{check_name(model)}.yaml"


def parse_duration(text: Any, where: str) -> timedelta:
    """``15m``, ``1h``, ``7d``, ``30s``, ``2w`` as a positive timedelta."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"{where} must be a positive duration such as 15m, 1h or 7d, not {text!r}",
            hint="write a whole number followed by s, m, h, d or w",
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def format_duration(delta: timedelta) -> str:
    """The largest exact unit of ``delta`` up to days, as people write windows: 7d, 1h."""
    seconds = int(delta.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_threshold(text: Any, where: str) -> Threshold:
    """``"> 250"``, ``">= 0.05"``, ``"< 0.8"`` as a :class:`Threshold`."""
    match = _THRESHOLD.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInputError(
            f"{where} must be a comparison such as '> 250' or '< 0.8', not {text!r}",
            hint="use one of >, >=, <, <= then a number, in quotes in YAML: threshold: '> 250'",
        )
    return Threshold(match.group(1), float(match.group(2)))


def check_metric(metric: Any, where: str) -> str:
    """A dotted metric name whose family is known (and, for resources, its metric too)."""
    if not isinstance(metric, str) or "." not in metric:
        raise InvalidInputError(
            f"{where} must be a dotted metric name such as drift.dataset, not {metric!r}",
            hint=f"metric families: {', '.join(FAMILIES)}",
        )
    family, rest = metric.split(".", 1)
    if family not in FAMILIES:
        raise InvalidInputError(
            f"{where}: unknown metric family {family!r} in {metric!r}",
            hint=f"metric families: {', '.join(FAMILIES)}",
        )
    if not rest or any(not part.strip() for part in rest.split(".")):
        raise InvalidInputError(f"{where}: {metric!r} has an empty part", hint="e.g. kpi.revenue")
    if family == "resources" and rest not in RESOURCE_METRICS:
        raise InvalidInputError(
            f"{where}: unknown resources metric {rest!r}",
            hint=f"resources metrics: {', '.join(RESOURCE_METRICS)}",
        )
    return metric


def parse_monitors(model: str, data: Any, *, source: str = "given") -> list[Monitor]:
    """Check ``data`` (a mapping with a ``monitors`` list) strictly; return the monitors."""
    where = f"monitors of {check_name(model)!r} ({source})"
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"{where} must be a mapping with a 'monitors' list, not {type(data).__name__}",
            hint="start the file with 'monitors:'",
        )
    _check_keys(data, SECTIONS, where)
    items = data.get("monitors") or []
    if not isinstance(items, list):
        raise InvalidInputError(f"{where}: 'monitors' must be a list of monitors")
    monitors = [_parse_one(model, item, i, where, source) for i, item in enumerate(items)]
    seen: set[str] = set()
    for monitor in monitors:
        if monitor.name in seen:
            raise InvalidInputError(
                f"{where}: two monitors are named {monitor.name!r}", hint="give each a unique name"
            )
        seen.add(monitor.name)
    return monitors


def _parse_one(model: str, item: Any, index: int, where: str, source: str) -> Monitor:
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"{where}: monitor #{index + 1} must be a mapping of fields")
    name = item.get("name")
    if not isinstance(name, str) or not _MONITOR_NAME.match(name):
        raise InvalidInputError(
            f"{where}: monitor #{index + 1}: field 'name' must be a name of letters, digits, "
            f"'_', '.' or '-', not {name!r}"
        )
    here = f"{where}: monitor {name!r}"
    _check_keys(item, KEYS, here)
    missing = [k for k in REQUIRED if item.get(k) is None]
    if missing:
        raise InvalidInputError(
            f"{here}: missing field(s) {', '.join(map(repr, missing))}",
            hint=f"every monitor needs: {', '.join(REQUIRED)}",
        )
    severity = item["severity"]
    if severity not in SEVERITIES:
        raise InvalidInputError(
            f"{here}: field 'severity' is {severity!r}", hint=f"use one of: {', '.join(SEVERITIES)}"
        )
    schedule = item["schedule"]
    if not isinstance(schedule, Mapping):
        raise InvalidInputError(
            f"{here}: field 'schedule' must be a mapping such as {{every: 15m}}, not {schedule!r}"
        )
    _check_keys(schedule, SCHEDULE_KEYS, f"{here}: field 'schedule'")
    version = item.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidInputError(
            f"{here}: field 'version' must be a version number, not {version!r}"
        )
    if version is not None and version < 1:
        raise InvalidInputError(f"{here}: field 'version' must be 1 or more, not {version}")
    return Monitor(
        model=model,
        name=name,
        metric=check_metric(item["metric"], f"{here}: field 'metric'"),
        window=parse_duration(item["window"], f"{here}: field 'window'"),
        threshold=parse_threshold(item["threshold"], f"{here}: field 'threshold'"),
        severity=severity,
        every=parse_duration(schedule.get("every"), f"{here}: field 'schedule.every'"),
        version=version,
        source=source,
    )


def _check_keys(values: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in values if k not in allowed)
    if unknown:
        raise InvalidInputError(
            f"{where}: unknown field(s) {', '.join(repr(k) for k in unknown)}",
            hint=f"allowed fields: {', '.join(allowed)}",
        )


def load_monitors(home: Path, model: str) -> list[Monitor]:
    """The monitors of ``model`` from its file (none when there is no file)."""
    path = monitors_path(home, model)
    return parse_monitors(model, read_file(path), source=str(path))


def monitored_models(home: Path) -> list[str]:
    """Models that have a monitor file."""
    folder = monitors_dir(home)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_all(home: Path) -> tuple[list[Monitor], dict[str, ModelwardError]]:
    """Every model's monitors, and the files that do not parse (by model), so one broken file
    never stops the others."""
    monitors: list[Monitor] = []
    broken: dict[str, ModelwardError] = {}
    for model in monitored_models(home):
        try:
            monitors.extend(load_monitors(home, model))
        except ModelwardError as exc:
            broken[model] = exc
    return monitors, broken


def save_monitors(
    settings: Settings, model: str, definitions: Sequence[Mapping[str, Any]]
) -> list[Monitor]:
    """Check ``definitions`` strictly and write them as the monitor file of ``model``
    (replaced atomically, so the scheduler never reads half a file)."""
    path = monitors_path(settings.home, model)
    monitors = parse_monitors(model, {"monitors": list(definitions)}, source=str(path))
    document: dict[str, Any] = dict(read_file(path) or {})  # other sections are kept
    document["monitors"] = [m.to_dict() for m in monitors]
    write_file(path, model, document)
    return monitors


def read_file(path: Path) -> Mapping[str, Any] | None:
    """The raw YAML of a monitor file (``None`` when there is none)."""
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(
            f"cannot read monitor file {path}: {exc}",
            hint="thresholds start with > or <, which YAML reads as markup: quote them, "
            "threshold: '> 250'",
        ) from exc
    if data is not None and not isinstance(data, Mapping):
        raise InvalidInputError(
            f"monitor file {path} must be a mapping with a 'monitors' list",
            hint="start the file with 'monitors:'",
        )
    return data


def file_section(home: Path, model: str, name: str) -> Any:
    """One top-level section of ``model``'s monitor file (``None`` when absent)."""
    return (read_file(monitors_path(home, model)) or {}).get(name)


def write_file(path: Path, model: str, document: Mapping[str, Any]) -> None:
    """Replace a monitor file atomically, so the scheduler never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{model}-", suffix=".yaml.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(dict(document), fh, sort_keys=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)

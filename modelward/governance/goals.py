"""Bounds on metrics: a model's accuracy goals, a policy's value and change thresholds.

A goal or value threshold is ``{"metric": "roc_auc", "min": 0.9}`` (and/or ``"max"``), written
``roc_auc>=0.9`` on the command line. A change threshold compares the candidate with the
champion on one metric (TFX's "blessing"): it fails when the candidate is worse by more than
``max_absolute`` or by more than ``max_relative`` (a fraction of the champion's value).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelward.errors import InvalidInputError
from modelward.governance.metrics import KNOWN, canonical_metric, higher_is_better

_TEXT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*(\S+)\s*$")
GOAL_KEYS = ("metric", "min", "max")
CHANGE_KEYS = ("metric", "direction", "max_absolute", "max_relative")
DIRECTIONS = ("higher", "lower")
_EPS = 1e-12

Error = type[InvalidInputError]


@dataclass(frozen=True)
class Goal:
    """A bound on one metric: an accuracy goal of a model or a value threshold of a policy."""

    metric: str
    min: float | None = None
    max: float | None = None

    def __str__(self) -> str:
        parts = [f"{self.metric}>={self.min:g}" if self.min is not None else ""]
        parts.append(f"{self.metric}<={self.max:g}" if self.max is not None else "")
        return " and ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out

    def check(self, kind: str, metrics: Mapping[str, float]) -> dict[str, Any]:
        """The check record of this bound against computed ``metrics``."""
        name, value = f"{kind} {self}", metrics.get(self.metric)
        if value is None:
            return check_record(kind, name, False, not_computed(self.metric))
        ok = (self.min is None or value >= self.min - _EPS) and (
            self.max is None or value <= self.max + _EPS
        )
        return check_record(kind, name, ok, f"{self.metric} = {value:.4g}", value=value)


@dataclass(frozen=True)
class ChangeThreshold:
    """How much worse than the champion the candidate may be on one metric."""

    metric: str
    direction: str
    max_absolute: float | None = None
    max_relative: float | None = None

    def __str__(self) -> str:
        allowed = [f"{self.max_absolute:g} absolute" if self.max_absolute is not None else ""]
        allowed.append(f"{self.max_relative:.4g} relative" if self.max_relative is not None else "")
        return f"{self.metric} vs champion ({self.direction} is better; at most {', '.join(a for a in allowed if a)} worse)"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric, "direction": self.direction}
        if self.max_absolute is not None:
            out["max_absolute"] = self.max_absolute
        if self.max_relative is not None:
            out["max_relative"] = self.max_relative
        return out

    def check(
        self, candidate: Mapping[str, float], champion: Mapping[str, float]
    ) -> dict[str, Any]:
        """The check record of the candidate's ``metric`` against the champion's."""
        name = f"change {self.metric}"
        new, old = candidate.get(self.metric), champion.get(self.metric)
        if new is None or old is None:
            return check_record("change", name, False, not_computed(self.metric))
        worse = old - new if self.direction == "higher" else new - old
        relative = worse / abs(old) if old != 0 else (math.inf if worse > 0 else 0.0)
        ok = (self.max_absolute is None or worse <= self.max_absolute + _EPS) and (
            self.max_relative is None or relative <= self.max_relative + _EPS
        )
        verdict = f"worse by {worse:.4g} ({relative:.2%})" if worse > 0 else "not worse"
        detail = f"{self.metric} {new:.4g} vs champion {old:.4g}: {verdict}; allowed: {self}"
        return check_record(
            "change", name, ok, detail, value=new, champion=old, worse=worse, relative=relative
        )


def check_record(
    kind: str, name: str, passed: bool | None, detail: str, **extra: Any
) -> dict[str, Any]:
    """One entry of a validation report's ``checks`` (``passed`` is ``None`` when skipped)."""
    status = "skipped" if passed is None else ("passed" if passed else "failed")
    record = {"kind": kind, "name": name, "status": status, "passed": passed, "detail": detail}
    record.update({k: v for k, v in extra.items() if not isinstance(v, float) or math.isfinite(v)})
    return record


def not_computed(metric: str) -> str:
    """Why a metric is missing from a validation."""
    return (
        f"{metric} was not computed for this model and data "
        "(roc_auc and log_loss need class probabilities; regression and classification "
        "metrics differ)"
    )


def parse_goal(
    item: str | Mapping[str, Any], *, where: str = "goal", error: Error = InvalidInputError
) -> Goal:
    """A goal from ``"roc_auc>=0.9"`` or ``{"metric": "roc_auc", "min": 0.9}``; strict."""
    if isinstance(item, str):
        match = _TEXT.match(item)
        if match is None:
            raise error(
                f"{where} {item!r} is not METRIC>=VALUE or METRIC<=VALUE", hint="e.g. roc_auc>=0.9"
            )
        name, op, text = match.groups()
        key = "min" if op == ">=" else "max"
        item = {"metric": name, key: _number(text, f"{where} {item!r}", error)}
    fields = _mapping(item, GOAL_KEYS, where, error)
    low = _optional_number(fields, "min", where, error)
    high = _optional_number(fields, "max", where, error)
    if low is None and high is None:
        raise error(f"{where} needs 'min' or 'max'", hint="e.g. {metric: accuracy, min: 0.8}")
    if low is not None and high is not None and low > high:
        raise error(f"{where}: min {low:g} is above max {high:g}")
    return Goal(_metric(fields, where, error), low, high)


def parse_goals(
    items: Iterable[str | Mapping[str, Any]],
    *,
    where: str = "goal",
    error: Error = InvalidInputError,
) -> list[Goal]:
    """Several goals, each checked; ``where`` names them in errors."""
    return [parse_goal(item, where=f"{where} {i + 1}", error=error) for i, item in enumerate(items)]


def parse_change(item: Any, *, where: str, error: Error = InvalidInputError) -> ChangeThreshold:
    """A change threshold from ``{"metric", "direction", "max_absolute", "max_relative"}``."""
    fields = _mapping(item, CHANGE_KEYS, where, error)
    metric = _metric(fields, where, error)
    direction = fields.get("direction", "higher" if higher_is_better(metric) else "lower")
    if direction not in DIRECTIONS:
        raise error(f"{where}: direction {direction!r} is not one of: {', '.join(DIRECTIONS)}")
    absolute = _optional_number(fields, "max_absolute", where, error)
    relative = _optional_number(fields, "max_relative", where, error)
    if absolute is None and relative is None:
        raise error(
            f"{where} needs 'max_absolute' or 'max_relative'", hint="e.g. max_relative: 0.02 (2 %)"
        )
    if (absolute is not None and absolute < 0) or (relative is not None and relative < 0):
        raise error(f"{where}: max_absolute and max_relative cannot be negative")
    return ChangeThreshold(metric, direction, absolute, relative)


def _mapping(item: Any, keys: tuple[str, ...], where: str, error: Error) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise error(
            f"{where} must be a mapping with keys {', '.join(keys)}, not {type(item).__name__}"
        )
    unknown = sorted(str(k) for k in item if k not in keys)
    if unknown:
        raise error(
            f"{where}: unknown key(s) {', '.join(unknown)}", hint=f"allowed keys: {', '.join(keys)}"
        )
    return item


def _metric(fields: Mapping[str, Any], where: str, error: Error) -> str:
    name = fields.get("metric")
    metric = canonical_metric(name) if isinstance(name, str) else None
    if metric is None:
        raise error(
            f"{where}: unknown metric {name!r}",
            hint=f"known metrics: {', '.join(KNOWN)} (auc means roc_auc)",
        )
    return metric


def _optional_number(fields: Mapping[str, Any], key: str, where: str, error: Error) -> float | None:
    value = fields.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise error(f"{where}: {key} must be a finite number, not {value!r}")
    return float(value)


def _number(text: str, where: str, error: Error) -> float:
    try:
        value = float(text)
    except ValueError:
        raise error(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise error(f"{where}: {text!r} is not a finite number")
    return value

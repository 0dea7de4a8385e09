"""The condition language of a decision-table cell (FEEL unary tests, simplified).

A cell is ``-`` (any value), a comparison (``< 5``, ``>= 2024-01-01``, ``!= retired``), a range
(``[a..b]``, ``(a..b)``, ``[a..b)``, ``(a..b]``), a membership test (``in [x, y]``,
``not in [x, y]``), a YAML list (membership) or a plain literal (equality). Conditions on
numeric and datetime inputs become unions of intervals; on string and boolean inputs, sets.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from modelward.signatures import ColumnSpec

#: Input types whose conditions are intervals (datetimes compare as nanoseconds since the epoch).
ORDERED_TYPES = frozenset({"integer", "long", "float", "double", "datetime"})
#: Ordered types that hold whole numbers only, so ``(3..4)`` holds no value.
DISCRETE_TYPES = frozenset({"integer", "long", "datetime"})

_RANGE = re.compile(r"^([\[(\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\])\[])$", re.DOTALL)
_MEMBERSHIP = re.compile(r"^(not\s+)?in\s*\[(.*)\]$", re.DOTALL | re.IGNORECASE)
_COMPARISON = re.compile(r"^(<=|>=|!=|<|>|=)\s*(.+)$", re.DOTALL)
_ITEM = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[^,]+)")


class ConditionError(Exception):
    """A cell that cannot be read; the table parser adds the rule number and input name."""


@dataclass(frozen=True)
class Interval:
    """A stretch of an ordered domain; ``lo``/``hi`` may be infinite."""

    lo: float
    hi: float
    lo_closed: bool
    hi_closed: bool

    def contains(self, value: Any) -> bool:
        """True when ``value`` (a number, or a Fraction) lies inside."""
        above = value >= self.lo if self.lo_closed else value > self.lo
        below = value <= self.hi if self.hi_closed else value < self.hi
        return bool(above and below)


@dataclass(frozen=True)
class RangeCondition:
    """A union of intervals on a numeric or datetime input."""

    intervals: tuple[Interval, ...]
    text: str


@dataclass(frozen=True)
class SetCondition:
    """Membership (or, when ``negated``, non-membership) of a string or boolean input."""

    values: frozenset[Any]
    negated: bool
    text: str


Condition = RangeCondition | SetCondition
EVERYTHING = Interval(-math.inf, math.inf, False, False)


def point(value: float) -> Interval:
    """The interval holding exactly ``value``."""
    return Interval(value, value, True, True)


def parse_condition(raw: Any, spec: ColumnSpec) -> Condition | None:
    """The condition a cell states about input ``spec``; ``None`` when it matches any value."""
    if isinstance(raw, list):
        if not raw:
            raise ConditionError("an empty list matches nothing; use '-' for any value")
        return _membership([literal(v, spec) for v in raw], False, spec, str(raw))
    if not isinstance(raw, str):
        return _membership([literal(raw, spec)], False, spec, repr(raw))
    text = raw.strip()
    if text == "-":
        return None
    if not text:
        raise ConditionError("the condition is empty; write '-' for any value")
    if found := _MEMBERSHIP.match(text):
        items = [m.group(1).strip() for m in _ITEM.finditer(found.group(2))]
        items = [i for i in items if i]
        if not items:
            raise ConditionError(f"{text!r} lists no values")
        return _membership([token(i, spec) for i in items], bool(found.group(1)), spec, text)
    if found := _RANGE.match(text):
        return _range(found, spec, text)
    if found := _COMPARISON.match(text):
        op, operand = found.group(1), found.group(2).strip()
        if op in ("=", "!="):
            return _membership([token(operand, spec)], op == "!=", spec, text)
        _require_ordered(spec, f"the comparison {op!r}")
        value = token(operand, spec, exact=False)
        bound = {
            "<": Interval(-math.inf, value, False, False),
            "<=": Interval(-math.inf, value, False, True),
            ">": Interval(value, math.inf, False, False),
            ">=": Interval(value, math.inf, True, False),
        }[op]
        return RangeCondition((bound,), text)
    return _membership([token(text, spec)], False, spec, text)


def _range(found: re.Match[str], spec: ColumnSpec, text: str) -> RangeCondition:
    _require_ordered(spec, "a range")
    lo = token(found.group(2), spec, exact=False)
    hi = token(found.group(3), spec, exact=False)
    lo_closed, hi_closed = found.group(1) == "[", found.group(4) == "]"
    if lo > hi or (lo == hi and not (lo_closed and hi_closed)):
        raise ConditionError(f"the range {text!r} is empty; write the lower bound first")
    return RangeCondition((Interval(lo, hi, lo_closed, hi_closed),), text)


def _require_ordered(spec: ColumnSpec, what: str) -> None:
    if spec.type not in ORDERED_TYPES:
        raise ConditionError(
            f"{what} needs a numeric or datetime input, but {spec.name!r} is {spec.type}; "
            "use '= value', 'in [a, b]' or a plain value"
        )


def _membership(values: list[Any], negated: bool, spec: ColumnSpec, text: str) -> Condition:
    if spec.type not in ORDERED_TYPES:
        return SetCondition(frozenset(values), negated, text)
    points = sorted(set(values))
    if not negated:
        return RangeCondition(tuple(point(v) for v in points), text)
    edges = [-math.inf, *points, math.inf]
    gaps = (Interval(a, b, False, False) for a, b in itertools.pairwise(edges))
    return RangeCondition(tuple(gaps), text)


def token(text: str, spec: ColumnSpec, *, exact: bool = True) -> Any:
    """A literal written inside a condition string (quotes optional) as a value of ``spec``."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return literal(text[1:-1], spec, exact=exact)
    if spec.type == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return literal(text, spec, exact=exact)


def literal(value: Any, spec: ColumnSpec, *, exact: bool = True) -> Any:
    """``value`` as a value of the input's type; ``exact=False`` allows non-whole bounds."""
    kind = spec.type
    if value is None:
        raise ConditionError("null is not a condition; use '-' for any value")
    if kind == "string":
        if not isinstance(value, str):
            raise ConditionError(f"expected a string, got {value!r}; quote it in the YAML")
        if spec.categories is not None and value not in spec.categories:
            allowed = ", ".join(map(str, spec.categories))
            raise ConditionError(f"{value!r} is not one of the declared categories ({allowed})")
        return value
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise ConditionError(f"expected true or false, got {value!r}")
        return value
    if kind == "datetime":
        return timestamp_ns(value)
    number = to_number(value)
    if kind in DISCRETE_TYPES and float(number).is_integer():
        return int(number)
    if kind in DISCRETE_TYPES and exact:
        raise ConditionError(f"{value!r} is not a whole number, so no {kind} value can equal it")
    return float(number)


def to_number(value: Any) -> float | int:
    """A finite int or float from a number or a numeric string; booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConditionError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value) if re.fullmatch(r"[+-]?\d[\d_]*", value.strip()) else float(value)
        except ValueError:
            raise ConditionError(f"expected a number, got {value!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConditionError(f"{value!r} is not a finite number; use '-' or an open comparison")
    return value


def timestamp_ns(value: Any) -> int:
    """A date or datetime (object or ISO string) as nanoseconds since the epoch, in UTC."""
    if isinstance(value, bool) or not isinstance(value, str | dt.date | pd.Timestamp):
        raise ConditionError(f"expected a date or datetime, got {value!r}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConditionError(f"{value!r} is not a date or datetime (use YYYY-MM-DD)") from None
    if stamp is pd.NaT:
        raise ConditionError(f"{value!r} is not a date or datetime (use YYYY-MM-DD)")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(stamp.as_unit("ns").value)


def format_value(value: Any, kind: str) -> str:
    """A bound or value written back the way a condition would spell it."""
    if kind == "datetime" and isinstance(value, int):
        text = pd.Timestamp(value, unit="ns").isoformat()
        return text.removesuffix("T00:00:00")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

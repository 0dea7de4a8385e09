"""Vectorised evaluation: one boolean mask per rule over the whole frame, then the hit policy.

``matches[r, i]`` is true when rule ``r`` matches row ``i``; every hit policy is a reduction of
that matrix, so no Python code runs per row (except to build the lists of COLLECT without an
aggregation, which are Python objects by nature).
"""

from __future__ import annotations

import math
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError
from modelward.runtimes.rules.conditions import ORDERED_TYPES, Condition, RangeCondition
from modelward.signatures import ColumnSpec

if TYPE_CHECKING:
    from modelward.runtimes.rules.table import DecisionTable

Column = tuple[Any, np.ndarray]  # (values, null mask) of one input
_SHOW_ROWS = 5


def evaluate(table: DecisionTable, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's outputs for every row of ``frame``, in input order."""
    matches = match_matrix(table, frame)
    if table.hit_policy == "COLLECT":
        if table.aggregation is None:
            columns = {c.name: _collect_lists(table, c, matches) for c in table.outputs}
        elif table.aggregation == "COUNT":
            counts = matches.sum(axis=0, dtype=np.int64)
            columns = {c.name: pd.Series(counts) for c in table.outputs}
        else:
            columns = {c.name: _aggregate(table, c, matches) for c in table.outputs}
    else:
        chosen = _chosen_rule(table, matches)
        columns = {c.name: _pick(table, c, chosen) for c in table.outputs}
    return pd.DataFrame(columns, index=pd.RangeIndex(matches.shape[1]))


def match_matrix(table: DecisionTable, frame: pd.DataFrame) -> np.ndarray:
    """A (rules, rows) boolean matrix: which rule matches which row."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"a decision table scores a pandas DataFrame, got {type(frame).__name__}"
        )
    tested = [s for s in table.inputs if any(s.name in r.conditions for r in table.rules)]
    missing = [s.name for s in tested if s.name not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"the input has no column {', '.join(map(repr, missing))}, which the rules test",
            hint=f"pass a frame with the columns {', '.join(s.name for s in table.inputs)}",
        )
    data = {s.name: _column(frame[s.name], s) for s in tested}
    masks: dict[tuple[str, Condition], np.ndarray] = {}
    matches = np.ones((len(table.rules), len(frame)), dtype=bool)
    for r, rule in enumerate(table.rules):
        for name, condition in rule.conditions.items():
            key = (name, condition)
            if key not in masks:
                masks[key] = _condition_mask(condition, data[name])
            matches[r] &= masks[key]
    return matches


def _column(series: pd.Series, spec: ColumnSpec) -> Column:
    null = series.isna().to_numpy(dtype=bool)
    if spec.type not in ORDERED_TYPES:
        return series, null
    if spec.type == "datetime":
        try:  # naive values are read as UTC, as condition literals are
            stamps = pd.to_datetime(series, format="mixed", utc=True)
        except (ValueError, TypeError) as exc:
            raise _not_a(spec, "dates or datetimes", exc) from exc
        stamps = stamps.dt.tz_localize(None)
        return stamps.astype("datetime64[ns]").to_numpy().view("int64"), null
    if series.dtype.kind == "b":
        raise _not_a(spec, "numbers", f"got booleans in a {spec.type} column")
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return series.to_numpy(), null
    try:
        return series.to_numpy(dtype="float64", na_value=np.nan), null
    except (ValueError, TypeError) as exc:
        raise _not_a(spec, "numbers", exc) from exc


def _not_a(spec: ColumnSpec, expected: str, detail: object) -> InvalidInputError:
    return InvalidInputError(
        f"input column {spec.name!r} must hold {expected} ({detail})",
        hint=f"the decision table declares {spec.name!r} as {spec.type}",
    )


def _condition_mask(condition: Condition, column: Column) -> np.ndarray:
    values, null = column
    if isinstance(condition, RangeCondition):
        mask = np.zeros(len(null), dtype=bool)
        for interval in condition.intervals:
            inside = ~null
            if interval.lo != -math.inf:
                inside &= values >= interval.lo if interval.lo_closed else values > interval.lo
            if interval.hi != math.inf:
                inside &= values <= interval.hi if interval.hi_closed else values < interval.hi
            mask |= inside
        return mask
    hit = values.isin(list(condition.values)).to_numpy(dtype=bool)
    return (~hit if condition.negated else hit) & ~null


def _chosen_rule(table: DecisionTable, matches: np.ndarray) -> np.ndarray:
    """Per row, the index of the rule the hit policy picks, or -1 when none matches."""
    if table.hit_policy == "UNIQUE":
        _refuse_multiple(table, matches)
    if table.hit_policy == "PRIORITY":
        keys = [np.arange(len(table.rules))]  # np.lexsort: last key sorts first
        for name in reversed([c.name for c in table.outputs if c.name in table.priorities]):
            ranked = table.priorities[name]
            keys.append(np.array([ranked.index(r.outputs[name]) for r in table.rules]))
        order = np.lexsort(keys)
        chosen = order[matches[order].argmax(axis=0)]
    else:
        chosen = matches.argmax(axis=0)
    return np.where(matches.any(axis=0), chosen, -1)


def _refuse_multiple(table: DecisionTable, matches: np.ndarray) -> None:
    multiple = np.flatnonzero(matches.sum(axis=0) > 1)
    if not len(multiple):
        return
    first = int(multiple[0])
    rules = [str(table.rules[r].number) for r in np.flatnonzero(matches[:, first])]
    rows = ", ".join(str(int(i)) for i in multiple[:_SHOW_ROWS])
    raise InvalidInputError(
        f"{len(multiple)} input row(s) match more than one rule of {table.label}, which uses hit "
        f"policy UNIQUE: row {first} matches rules {', '.join(rules)} (rows {rows}"
        f"{', …' if len(multiple) > _SHOW_ROWS else ''})",
        hint="such rows hold values outside the declared inputs (minimum, maximum, categories); "
        "validate the input against the model signature, or use hit_policy FIRST",
    )


def _fallback(table: DecisionTable, column: ColumnSpec) -> Any:
    return None if table.default is None else table.default.get(column.name)


def _pick(table: DecisionTable, column: ColumnSpec, chosen: np.ndarray) -> pd.Series:
    values = [r.outputs[column.name] for r in table.rules] + [_fallback(table, column)]
    index = np.where(chosen >= 0, chosen, len(table.rules))
    return typed_series(values, index, column.type)


def typed_series(values: list[Any], index: np.ndarray, kind: str) -> pd.Series:
    """``values[index]`` as a column of the declared type (nullable when a value is null)."""
    null = np.array([v is None for v in values], dtype=bool)[index]
    if kind in ("float", "double"):
        floats = np.array([np.nan if v is None else v for v in values], dtype="float64")
        return pd.Series(floats[index])
    if kind in ("integer", "long", "boolean"):
        dtype = "bool" if kind == "boolean" else "int64"
        raw = np.array([0 if v is None else v for v in values], dtype=dtype)[index]
        if not null.any():
            return pd.Series(raw)
        array_type = pd.arrays.BooleanArray if kind == "boolean" else pd.arrays.IntegerArray
        return pd.Series(array_type(raw, null))
    return pd.Series(np.array(values, dtype=object)[index])


def _collect_lists(table: DecisionTable, column: ColumnSpec, matches: np.ndarray) -> pd.Series:
    rows, rules = np.nonzero(matches.T)  # row-major: grouped by row, rules in table order
    values = np.array([r.outputs[column.name] for r in table.rules], dtype=object)
    flat = iter(values[rules].tolist())
    fallback = None if table.default is None else [table.default.get(column.name)]
    counts = np.bincount(rows, minlength=matches.shape[1]).tolist()
    cells = [list(islice(flat, n)) if n else fallback for n in counts]
    return pd.Series(cells, dtype=object)


def _aggregate(table: DecisionTable, column: ColumnSpec, matches: np.ndarray) -> pd.Series:
    values = [r.outputs[column.name] for r in table.rules]
    result = np.full(matches.shape[1], np.nan)
    for r, value in enumerate(values):
        if value is None:
            continue
        hit = matches[r]
        if table.aggregation == "SUM":
            result[hit] = np.where(np.isnan(result[hit]), 0, result[hit]) + value
        elif table.aggregation == "MIN":
            result[hit] = np.fmin(result[hit], value)
        else:
            result[hit] = np.fmax(result[hit], value)
    fallback = _fallback(table, column)
    if fallback is not None:
        result[~matches.any(axis=0)] = fallback
    if column.type in ("float", "double"):
        return pd.Series(result)
    null = np.isnan(result)
    whole = np.rint(np.where(null, 0, result)).astype("int64")
    return pd.Series(pd.arrays.IntegerArray(whole, null) if null.any() else whole)

"""Signature checks as boolean masks: which rows of a column break its spec, and how.

:func:`column_masks` is the one place that decides what is wrong with a column. The whole-frame
sentences of :func:`modelward.signatures.check_columns` and the per-row reasons of
:func:`row_problems` are both built from its masks, so the two can never disagree about a row.
Every check is vectorised; only the rows that are wrong are ever looked at one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from modelward.signatures import ColumnSpec, Signature

NUMERIC_TYPES = frozenset({"integer", "long", "float", "double"})
INT_TYPES = frozenset({"integer", "long"})


@dataclass(frozen=True)
class WrongType:
    """Rows whose values are not of the column's type, and how to describe the column."""

    rows: np.ndarray
    summary: str | None = None  # e.g. "booleans"; None: show the first wrong value instead
    show_type: bool = False  # name the Python type of that value
    list_rows: bool = True


@dataclass(frozen=True)
class ColumnMasks:
    """One boolean per row for each way a column can break its spec."""

    null: np.ndarray  # null where the column is not nullable
    wrong_type: WrongType | None
    below: np.ndarray
    above: np.ndarray
    outside: np.ndarray  # outside the allowed categories
    numbers: np.ndarray | None  # the values as floats, when a range is checked

    @property
    def any_row(self) -> np.ndarray:
        """Rows with at least one problem."""
        bad = self.null | self.below | self.above | self.outside
        return bad | self.wrong_type.rows if self.wrong_type is not None else bad


def column_masks(spec: ColumnSpec, series: pd.Series) -> ColumnMasks:
    """Every problem of one column against its spec, as row masks."""
    null = series.isna().to_numpy()
    wrong = wrong_type(spec, series, null)
    fine = ~null if wrong is None else ~null & ~wrong.rows
    none = np.zeros(len(series), dtype=bool)
    below, above, numbers = none, none, None
    if spec.type in NUMERIC_TYPES and (spec.minimum is not None or spec.maximum is not None):
        numbers = _floats(series)
        if spec.minimum is not None:
            below = fine & (numbers < spec.minimum)
        if spec.maximum is not None:
            above = fine & (numbers > spec.maximum)
    outside = none
    if spec.categories is not None:
        outside = fine & ~series.isin(list(spec.categories)).to_numpy()
    return ColumnMasks(null & (not spec.nullable), wrong, below, above, outside, numbers)


def wrong_type(spec: ColumnSpec, series: pd.Series, null: np.ndarray) -> WrongType | None:
    """Rows whose value does not fit the column's type (``None`` when they all do)."""
    kind = series.dtype.kind
    expected = spec.type
    if null.all():
        return None  # nothing to type-check; nullability is reported separately
    present = ~null
    if expected in NUMERIC_TYPES:
        if kind in "iuf":
            if expected in INT_TYPES and kind == "f":
                values = series.to_numpy(dtype="float64", na_value=np.nan)
                return _found(present & (np.mod(values, 1) != 0), summary="non-whole numbers")
            return None
        if kind == "b":
            return WrongType(present, summary="booleans", list_rows=False)
        if kind == "O" or isinstance(series.dtype, pd.StringDtype):
            # Text formats (CSV, JSON) deliver numbers as strings when one value is broken:
            # name the rows that do not parse, accept the column when all of them do.
            return _found(present & pd.to_numeric(series, errors="coerce").isna().to_numpy())
        return _not_matching(series, null, ("integer", "floating", "mixed-integer-float"), _number)
    if expected == "boolean":
        if kind == "b" or str(series.dtype) == "boolean":
            return None
        return _not_matching(series, null, ("boolean",), _boolean)
    if expected in ("string", "binary"):
        if expected == "string" and isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype):
            return None
        if kind != "O":
            return WrongType(present, summary=f"{series.dtype} values", list_rows=False)
        if expected == "string":
            return _not_matching(series, null, ("string",), lambda v: isinstance(v, str))
        return _not_matching(series, null, ("bytes",), lambda v: isinstance(v, bytes))
    if kind == "M":  # datetime
        return None
    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    return _found(present & parsed.isna().to_numpy())


def row_problems(
    signature: Signature, frame: pd.DataFrame
) -> tuple[np.ndarray, dict[int, list[str]]]:
    """Which rows of ``frame`` break ``signature`` (a mask) and why (reasons by row position).

    A missing column makes every row bad; callers that skip bad rows should treat that as the
    schema problem it is rather than skip everything.
    """
    reasons: dict[int, list[str]] = {}
    missing = [f"missing column {s.name!r}" for s in signature.inputs if s.name not in frame]
    if missing:
        return np.ones(len(frame), dtype=bool), {i: list(missing) for i in range(len(frame))}
    bad = np.zeros(len(frame), dtype=bool)
    for spec in signature.inputs:
        series = frame[spec.name]
        masks = column_masks(spec, series)
        bad |= masks.any_row
        for i, reason in _column_reasons(spec, series, masks):
            reasons.setdefault(i, []).append(reason)
    return bad, dict(sorted(reasons.items()))


def _column_reasons(
    spec: ColumnSpec, series: pd.Series, masks: ColumnMasks
) -> list[tuple[int, str]]:
    name = f"column {spec.name!r}"
    out: list[tuple[int, str]] = []
    values = series.to_numpy()

    def add(mask: np.ndarray, describe: Callable[[int], str]) -> None:
        out.extend((int(i), f"{name}: {describe(int(i))}") for i in np.flatnonzero(mask))

    if masks.wrong_type is not None:
        add(masks.wrong_type.rows, lambda i: f"expected {spec.type}, got {_plain(values[i])!r}")
    add(masks.null, lambda i: "null value")
    if masks.numbers is not None:
        numbers = masks.numbers
        add(masks.below, lambda i: f"{numbers[i]:g} below the minimum {spec.minimum}")
        add(masks.above, lambda i: f"{numbers[i]:g} above the maximum {spec.maximum}")
    add(masks.outside, lambda i: f"{_plain(values[i])!r} outside the allowed categories")
    return out


def _found(rows: np.ndarray, *, summary: str | None = None) -> WrongType | None:
    return WrongType(rows, summary=summary) if rows.any() else None


def _not_matching(
    series: pd.Series, null: np.ndarray, fine: tuple[str, ...], ok: Callable[[Any], bool]
) -> WrongType | None:
    values = series.to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) in fine:
        return None  # one pass in C proves every value fits
    rows = np.fromiter(
        (not n and not ok(v) for v, n in zip(values, null, strict=True)),
        dtype=bool,
        count=len(values),
    )
    return WrongType(rows, show_type=True) if rows.any() else None


def _floats(series: pd.Series) -> np.ndarray:
    try:
        return series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):  # some values are not numbers: those rows are typed wrong
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so reasons read ``3``, not ``np.int64(3)``."""
    return value.item() if isinstance(value, np.generic) else value

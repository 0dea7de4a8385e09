"""Signatures: the columns a model takes and gives, their types, ranges and privacy flags.

A signature is validated as a whole: :meth:`Signature.validate` collects *every* problem in a
frame (missing columns, wrong types, nulls, out-of-range values, unknown categories) and raises
one :class:`~modelward.errors.SignatureViolationError` listing them all. The checks themselves
are row masks (:mod:`modelward.signature_checks`); :func:`row_problems` gives the same findings
row by row, for callers that leave bad rows out instead of failing.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidSignatureError, SignatureViolationError
from modelward.frames import as_frame
from modelward.signature_checks import NUMERIC_TYPES as NUMERIC_TYPES
from modelward.signature_checks import WrongType, column_masks
from modelward.signature_checks import row_problems as row_problems

#: Column types, named as MLflow names them so that imported signatures carry over unchanged.
TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")
_SHOW_ROWS = 5
_FIELDS = {"name", "type", "nullable", "minimum", "maximum", "categories", "pii", "description"}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: name, type, whether nulls are allowed, optional range or categories, PII flag."""

    name: str
    type: str
    nullable: bool = True
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[Any, ...] | None = None
    pii: bool = False
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidSignatureError(
                f"column name must be a non-empty string, got {self.name!r}"
            )
        if self.type not in TYPES:
            raise InvalidSignatureError(
                f"column {self.name!r} has unknown type {self.type!r}",
                hint=f"use one of: {', '.join(TYPES)}",
            )
        for flag in ("nullable", "pii"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidSignatureError(
                    f"column {self.name!r}: {flag} must be true or false, not {getattr(self, flag)!r}"
                )
        for bound in ("minimum", "maximum"):
            value = getattr(self, bound)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Real)
            ):
                raise InvalidSignatureError(
                    f"column {self.name!r}: {bound} must be a number, not {value!r}"
                )
        if self.categories is not None and isinstance(self.categories, str | bytes | Mapping):
            raise InvalidSignatureError(
                f"column {self.name!r}: categories must be a list of values, not {self.categories!r}"
            )
        if (
            self.minimum is not None or self.maximum is not None
        ) and self.type not in NUMERIC_TYPES:
            raise InvalidSignatureError(
                f"column {self.name!r}: minimum/maximum only apply to numeric columns, "
                f"not {self.type}"
            )
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise InvalidSignatureError(
                f"column {self.name!r}: minimum {self.minimum} is greater than maximum {self.maximum}"
            )
        for bound in ("minimum", "maximum"):  # numpy scalars become plain numbers (JSON)
            value = getattr(self, bound)
            if value is not None and hasattr(value, "item"):
                object.__setattr__(self, bound, value.item())
        if self.categories is not None:
            plain = tuple(c.item() if hasattr(c, "item") else c for c in self.categories)
            object.__setattr__(self, "categories", plain)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; optional fields left out when unset."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.categories is not None:
            out["categories"] = list(self.categories)
        if self.pii:
            out["pii"] = True
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        """Build from a dict, refusing unknown keys so typos do not pass silently."""
        if not isinstance(data, Mapping):
            raise InvalidSignatureError(f"a column must be a mapping, got {data!r}")
        unknown = set(data) - _FIELDS
        if unknown:
            raise InvalidSignatureError(
                f"column {data.get('name')!r} has unknown keys: {', '.join(sorted(unknown))}",
                hint=f"allowed keys: {', '.join(sorted(_FIELDS))}",
            )
        if "name" not in data or "type" not in data:
            raise InvalidSignatureError(f"column {dict(data)!r} needs both 'name' and 'type'")
        return cls(**{k: data[k] for k in data})


@dataclass(frozen=True)
class Signature:
    """Inputs and outputs of a model."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for label, cols in (("input", self.inputs), ("output", self.outputs)):
            names = [c.name for c in cols]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise InvalidSignatureError(f"duplicate {label} columns: {', '.join(dupes)}")

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [c.name for c in self.outputs]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in (*self.inputs, *self.outputs) if c.pii]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        if not isinstance(data, Mapping) or "inputs" not in data:
            raise InvalidSignatureError("a signature is a mapping with 'inputs' (and 'outputs')")
        unknown = set(data) - {"inputs", "outputs"}
        if unknown:
            raise InvalidSignatureError(f"signature has unknown keys: {', '.join(sorted(unknown))}")
        return cls(
            tuple(ColumnSpec.from_dict(c) for c in data["inputs"] or ()),
            tuple(ColumnSpec.from_dict(c) for c in data.get("outputs") or ()),
        )

    def with_outputs(self, outputs: Iterable[ColumnSpec]) -> Signature:
        return replace(self, outputs=tuple(outputs))

    def validate(self, frame: pd.DataFrame, *, row_offset: int = 0) -> None:
        """Raise :class:`SignatureViolationError` listing every problem of ``frame``."""
        problems = check_columns(self.inputs, frame, row_offset=row_offset)
        if problems:
            raise SignatureViolationError(problems)

    def conform(self, frame: pd.DataFrame, *, row_offset: int = 0) -> pd.DataFrame:
        """Validate, then return the input columns in signature order with usable dtypes."""
        self.validate(frame, row_offset=row_offset)
        out = frame.loc[:, self.input_names] if list(frame.columns) != self.input_names else frame
        for spec in self.inputs:
            kind = out[spec.name].dtype.kind
            if spec.type in NUMERIC_TYPES and kind not in "iufb":
                out = out.assign(**{spec.name: pd.to_numeric(out[spec.name])})
            elif spec.type == "datetime" and kind != "M":
                out = out.assign(**{spec.name: pd.to_datetime(out[spec.name], format="mixed")})
        return out


# --- validation -------------------------------------------------------------------------------
def check_columns(
    specs: Sequence[ColumnSpec], frame: pd.DataFrame, *, row_offset: int = 0
) -> list[str]:
    """Every problem of ``frame`` against ``specs``, as readable sentences (empty when fine)."""
    if not isinstance(frame, pd.DataFrame):
        return [f"expected a table of columns, got {type(frame).__name__}"]
    problems: list[str] = []
    missing = [s.name for s in specs if s.name not in frame.columns]
    if missing:
        problems.append(
            f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(map(repr, missing))}"
        )
    for spec in specs:
        if spec.name in frame.columns:
            problems.extend(_check_column(spec, frame[spec.name], row_offset))
    return problems


def _rows(mask: np.ndarray, offset: int) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i) + offset) for i in idx[:_SHOW_ROWS])
    more = f", … {len(idx) - _SHOW_ROWS} more" if len(idx) > _SHOW_ROWS else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


def _check_column(spec: ColumnSpec, series: pd.Series, offset: int) -> list[str]:
    """The problems of one column as sentences, built from its row masks."""
    name = spec.name
    masks = column_masks(spec, series)
    if masks.wrong_type is not None:
        return [f"column {name!r}: {_type_problem(spec, series, masks.wrong_type, offset)}"]
    problems = []
    if masks.null.any():
        problems.append(
            f"column {name!r}: {int(masks.null.sum())} null value(s) but the column is not "
            f"nullable ({_rows(masks.null, offset)})"
        )
    if masks.numbers is not None:
        for mask, side, bound in (
            (masks.below, "below the minimum", spec.minimum),
            (masks.above, "above the maximum", spec.maximum),
        ):
            if mask.any():
                problems.append(
                    f"column {name!r}: {int(mask.sum())} value(s) {side} {bound} "
                    f"(e.g. {masks.numbers[mask][0]:g}; {_rows(mask, offset)})"
                )
    if masks.outside.any():
        example = series.to_numpy()[masks.outside][0]
        problems.append(
            f"column {name!r}: {int(masks.outside.sum())} value(s) outside the allowed categories "
            f"{list(spec.categories or ())} (e.g. {example!r}; {_rows(masks.outside, offset)})"
        )
    return problems


def _type_problem(spec: ColumnSpec, series: pd.Series, wrong: WrongType, offset: int) -> str:
    if wrong.summary is not None:
        got = wrong.summary
    else:
        example = series.to_numpy()[wrong.rows][0]
        got = f"{type(example).__name__} {example!r}" if wrong.show_type else f"{example!r}"
    rows = f" ({_rows(wrong.rows, offset)})" if wrong.list_rows else ""
    return f"expected {spec.type}, got {got}{rows}"


# --- inference --------------------------------------------------------------------------------
def infer_type(series: pd.Series) -> str:
    """The signature type of a pandas column."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "string"
    kind = dtype.kind
    if kind == "b" or str(dtype) == "boolean":
        return "boolean"
    if kind in "iu":
        return "integer" if getattr(dtype, "itemsize", 8) <= 4 else "long"
    if kind == "f":
        return "float" if getattr(dtype, "itemsize", 8) <= 4 else "double"
    if kind == "M":
        return "datetime"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    values = series.dropna()
    if values.empty:
        return "string"
    kinds = {type(v) for v in values.iloc[:1000]}
    if kinds <= {str}:
        return "string"
    if kinds <= {bytes}:
        return "binary"
    if kinds <= {bool, np.bool_}:
        return "boolean"
    raise InvalidSignatureError(
        f"cannot infer a type for column {series.name!r}: it mixes "
        f"{', '.join(sorted(k.__name__ for k in kinds))}",
        hint="give the column one type, or pass an explicit signature",
    )


def infer_columns(frame: pd.DataFrame) -> tuple[ColumnSpec, ...]:
    """Column specs for a sample frame; a column is nullable when the sample has nulls in it."""
    specs = []
    for name in frame.columns:
        series = frame[name]
        cats = None
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = tuple(series.dtype.categories.tolist())
        specs.append(
            ColumnSpec(
                name=str(name),
                type=infer_type(series),
                nullable=bool(series.isna().any()),
                categories=cats,
            )
        )
    return tuple(specs)


def infer_signature(inputs: Any, outputs: Any = None) -> Signature:
    """Infer a signature from a sample of inputs and, optionally, the model's outputs on it."""
    in_frame = as_frame(inputs)
    out_cols = (
        infer_columns(as_frame(outputs, default_name="prediction")) if outputs is not None else ()
    )
    out_cols = tuple(replace(c, nullable=True) for c in out_cols)
    return Signature(infer_columns(in_frame), out_cols)

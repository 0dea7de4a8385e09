"""Turning an input frame into the columns a PMML estimator reads, typed as the PMML declares."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError
from modelward.runtimes.pmml.schema import PmmlField, PmmlSchema


def prepare_inputs(frame: pd.DataFrame, schema: PmmlSchema) -> pd.DataFrame:
    """Every field the estimator reads, typed as the PMML declares it; all problems at once."""
    columns: dict[str, Any] = {}
    problems: list[str] = []
    for spec in schema.fields:
        if spec.name in frame.columns:
            values, problem = _convert(frame[spec.name], spec)
            if problem:
                problems.append(f"column {spec.name!r}: {problem}")
                continue
        elif spec.active and spec.replacement is None:
            problems.append(f"missing column {spec.name!r}")
            continue
        else:  # unused by the model, or the PMML says what to put in its place
            fill = spec.replacement
            if fill is None:
                fill = spec.categories[0] if spec.categories else 0.0
            values = pd.Series([fill] * len(frame), index=frame.index)
        columns[spec.name] = values
    if problems:
        raise InvalidInputError(
            f"input does not fit the PMML model: {'; '.join(problems)}",
            hint="send the PMML's fields with the types and categories its DataDictionary declares",
        )
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)


def _convert(series: pd.Series, spec: PmmlField) -> tuple[pd.Series, str | None]:
    if spec.replacement is not None:
        series = series.astype(object).where(series.notna(), spec.replacement)
    present = series.notna()
    if spec.numeric:
        if series.dtype.kind == "b":
            return series, f"expected numbers (PMML {spec.data_type}), got booleans"
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna() & present
        if bad.any():
            return series, f"expected numbers (PMML {spec.data_type}), got {_example(series, bad)}"
        if spec.data_type == "integer" and spec.optype != "continuous" and present.all():
            values = values.astype("int64")
        else:
            values = values.astype(float)
    elif spec.data_type == "string":
        values = series.map(lambda v: str(v) if isinstance(v, int | np.integer) else v)
        bad = present & ~values.map(lambda v: isinstance(v, str))
        if bad.any():
            return series, f"expected text, got {_example(series, bad)}"
    else:
        values = series
    if not present.all():
        return series, (
            f"{int((~present).sum())} missing value(s), and the PMML gives no "
            "missingValueReplacement for it"
        )
    if spec.optype != "continuous" and spec.categories:
        unknown = ~values.isin(list(spec.categories))
        if unknown.any():
            return series, (
                f"{_example(values, unknown)} is not one of the PMML's categories "
                f"{list(spec.categories)}"
            )
    return values, None


def example_row(schema: PmmlSchema) -> pd.DataFrame:
    """One row of valid values for the active fields (scored once when a PMML is imported)."""

    def value(f: PmmlField) -> Any:
        if f.categories:
            return f.categories[0]
        return 0.0 if f.numeric else (False if f.data_type == "boolean" else "")

    return pd.DataFrame({f.name: [value(f)] for f in schema.fields if f.active})


def _example(series: pd.Series, mask: pd.Series) -> str:
    rows = np.flatnonzero(mask.to_numpy())
    value = series.iloc[int(rows[0])]
    return f"{type(value).__name__} {value!r} (row {int(rows[0])})"

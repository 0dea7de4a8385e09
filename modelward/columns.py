"""Named numpy columns checked against a signature without pandas: the scoring hot path.

The happy path is a handful of vectorised numpy checks. When anything looks wrong, the same
pandas-based validation as :meth:`Signature.validate` runs, so both paths report the same
problems in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, SignatureViolationError
from modelward.signatures import NUMERIC_TYPES, ColumnSpec, Signature, check_columns

Columns = dict[str, np.ndarray]
_INT_TYPES = frozenset({"integer", "long"})


def row_count(columns: Mapping[str, np.ndarray]) -> int:
    """Rows in ``columns``; refuses columns of different lengths."""
    lengths = {len(a) for a in columns.values()}
    if len(lengths) > 1:
        raise InvalidInputError(f"columns have different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def conform_columns(
    signature: Signature, columns: Mapping[str, np.ndarray], *, row_offset: int = 0
) -> Columns:
    """The signature's input columns, in order and with model-ready dtypes, or every problem."""
    out: Columns = {}
    for spec in signature.inputs:
        array = columns.get(spec.name)
        if array is None or not _fine(spec, array):
            return _slow_path(signature, columns, row_offset)
        out[spec.name] = (
            array
            if spec.type not in NUMERIC_TYPES or array.dtype.kind != "O"
            else array.astype("float64")
        )
    return out


def _fine(spec: ColumnSpec, array: np.ndarray) -> bool:
    """True when ``array`` certainly satisfies ``spec`` (False means: look closer)."""
    kind = array.dtype.kind
    if spec.type in NUMERIC_TYPES:
        if kind not in "iuf":
            return False
        if kind == "f":
            missing = np.isnan(array)
            if not spec.nullable and missing.any():
                return False
            if spec.type in _INT_TYPES and np.any((np.mod(array, 1) != 0) & ~missing):
                return False
        if spec.minimum is not None and np.any(array < spec.minimum):
            return False
        return not (spec.maximum is not None and np.any(array > spec.maximum))
    if spec.type == "boolean":
        return kind == "b"
    if spec.type == "datetime":
        return kind == "M" and (spec.nullable or not np.isnat(array).any())
    if kind not in "OU":
        return False
    wanted = str if spec.type == "string" else bytes
    if kind == "O":
        for value in array:
            if value is None:
                if not spec.nullable:
                    return False
            elif not isinstance(value, wanted):
                return False
    return spec.categories is None or bool(
        np.isin(array[array != None], spec.categories).all()  # noqa: E711 - elementwise
    )


def _slow_path(signature: Signature, columns: Mapping[str, np.ndarray], row_offset: int) -> Columns:
    frame = pd.DataFrame({name: pd.Series(array) for name, array in columns.items()})
    problems = check_columns(signature.inputs, frame, row_offset=row_offset)
    if problems:
        raise SignatureViolationError(problems)
    conformed = signature.conform(frame, row_offset=row_offset)
    return {name: conformed[name].to_numpy() for name in signature.input_names}


def frame_columns(frame: pd.DataFrame) -> Columns:
    """A frame as named 1-D numpy columns."""
    return {str(name): frame[name].to_numpy() for name in frame.columns}

"""Named numpy columns checked against a signature without pandas: the scoring hot path.

The happy path is a handful of vectorised numpy checks. When anything looks wrong, the same
pandas-based validation as :meth:`Signature.validate` runs, so both paths report the same
problems in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Plan:
    """What checking one signature's numeric columns at once needs (built once per signature)."""

    names: tuple[str, ...]
    not_nullable: np.ndarray  # (k, 1) bool
    minimum: np.ndarray  # (k, 1) float, -inf when unbounded
    maximum: np.ndarray  # (k, 1) float, +inf when unbounded
    whole: np.ndarray  # indices of integer columns


_PLANS: dict[int, tuple[Signature, _Plan]] = {}


def _plan(signature: Signature) -> _Plan:
    """The plan of ``signature``, cached by identity (hashing a wide signature costs more)."""
    cached = _PLANS.get(id(signature))
    if cached is not None and cached[0] is signature:
        return cached[1]
    if len(_PLANS) > 256:
        _PLANS.clear()
    plan = _build_plan(signature)
    _PLANS[id(signature)] = (signature, plan)
    return plan


def _build_plan(signature: Signature) -> _Plan:
    specs = [s for s in signature.inputs if s.type in NUMERIC_TYPES]
    return _Plan(
        names=tuple(s.name for s in specs),
        not_nullable=np.array([[not s.nullable] for s in specs], dtype=bool).reshape(-1, 1),
        minimum=np.array(
            [[-np.inf if s.minimum is None else s.minimum] for s in specs], dtype=float
        ).reshape(-1, 1),
        maximum=np.array(
            [[np.inf if s.maximum is None else s.maximum] for s in specs], dtype=float
        ).reshape(-1, 1),
        whole=np.array([i for i, s in enumerate(specs) if s.type in _INT_TYPES], dtype=np.intp),
    )


def conform_columns(
    signature: Signature, columns: Mapping[str, np.ndarray], *, row_offset: int = 0
) -> Columns:
    """The signature's input columns, in order and with model-ready dtypes, or every problem."""
    plan = _plan(signature)
    if len(plan.names) > 1 and not _numbers_fine(plan, columns):
        return _slow_path(signature, columns, row_offset)
    checked = frozenset(plan.names) if len(plan.names) > 1 else frozenset()
    out: Columns = {}
    for spec in signature.inputs:
        array = columns.get(spec.name)
        if array is None or (spec.name not in checked and not _fine(spec, array)):
            return _slow_path(signature, columns, row_offset)
        out[spec.name] = (
            array
            if spec.type not in NUMERIC_TYPES or array.dtype.kind != "O"
            else array.astype("float64")
        )
    return out


def _numbers_fine(plan: _Plan, columns: Mapping[str, np.ndarray]) -> bool:
    """Every numeric column checked in one go: present, numeric, nulls, bounds, whole numbers."""
    arrays = []
    for name in plan.names:
        array = columns.get(name)
        if array is None or array.ndim != 1 or array.dtype.kind not in "iuf":
            return False
        arrays.append(array)
    if len({len(a) for a in arrays}) != 1:
        return False
    block = np.concatenate(arrays).astype("float64", copy=False).reshape(len(arrays), -1)
    missing = np.isnan(block)
    if (missing & plan.not_nullable).any():
        return False
    if (block < plan.minimum).any() or (block > plan.maximum).any():
        return False
    if plan.whole.size:
        part = block[plan.whole]
        if ((np.mod(part, 1) != 0) & ~missing[plan.whole]).any():
            return False
    return True


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

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelward.columns import conform_columns, frame_columns, row_count
from modelward.errors import InvalidInputError, SignatureViolationError
from modelward.signatures import ColumnSpec, Signature

SIG = Signature(
    (
        ColumnSpec("age", "integer", nullable=False, minimum=0, maximum=120),
        ColumnSpec("income", "double"),
        ColumnSpec("colour", "string", categories=("red", "green")),
        ColumnSpec("active", "boolean"),
    )
)


def good() -> dict[str, np.ndarray]:
    return {
        "active": np.array([True, False]),
        "colour": np.array(["red", None], dtype=object),
        "income": np.array([1.5, np.nan]),
        "age": np.array([30, 40]),
        "extra": np.array([1, 2]),
    }


def test_fast_path_orders_and_keeps_arrays() -> None:
    out = conform_columns(SIG, good())
    assert list(out) == ["age", "income", "colour", "active"]
    assert out["age"].dtype.kind == "i" and out["income"].dtype.kind == "f"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age": np.array([30.0, np.nan])}, "null value"),
        ({"age": np.array([30, 130])}, "above the maximum 120"),
        ({"age": np.array([30.5, 1.0])}, "non-whole"),
        ({"income": np.array(["1.5", "x"], dtype=object)}, "expected double, got 'x'"),
        ({"colour": np.array(["red", "blue"], dtype=object)}, "outside the allowed categories"),
        ({"active": np.array([1, 0])}, "expected boolean"),
    ],
)
def test_problems_are_the_same_as_the_pandas_path(
    change: dict[str, np.ndarray], message: str
) -> None:
    columns = {**good(), **change}
    with pytest.raises(SignatureViolationError) as fast:
        conform_columns(SIG, columns)
    with pytest.raises(SignatureViolationError) as slow:
        SIG.validate(pd.DataFrame(columns))
    assert fast.value.problems == slow.value.problems
    assert message in str(fast.value)


def test_missing_columns_and_text_numbers() -> None:
    columns = good()
    del columns["age"]
    with pytest.raises(SignatureViolationError, match="missing column: 'age'"):
        conform_columns(SIG, columns)
    parsed = conform_columns(SIG, {**good(), "income": np.array(["1.5", None], dtype=object)})
    assert parsed["income"].dtype.kind == "f" and parsed["income"][0] == 1.5


def test_row_count_and_frame_columns() -> None:
    assert row_count({"a": np.zeros(3), "b": np.zeros(3)}) == 3 and row_count({}) == 0
    with pytest.raises(InvalidInputError, match="different lengths"):
        row_count({"a": np.zeros(3), "b": np.zeros(2)})
    assert list(frame_columns(pd.DataFrame({"x": [1], "y": ["a"]}))) == ["x", "y"]

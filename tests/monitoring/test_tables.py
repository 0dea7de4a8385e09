from __future__ import annotations

import numpy as np
import pyarrow as pa

from modelward.monitoring.records import InferenceRecord
from modelward.monitoring.tables import records_table, to_arrow
from tests.monitoring.conftest import T0, make_record


def test_numpy_columns_keep_their_types() -> None:
    assert to_arrow(np.array([1, 2], dtype=np.int32)).type == pa.int32()
    floats = to_arrow(np.array([1.5, np.nan]))
    assert floats.type == pa.float64() and floats.null_count == 0  # NaN stays a number
    assert to_arrow(np.array([1.5], dtype=np.float16)).type == pa.float32()
    assert to_arrow(np.array([True, False])).type == pa.bool_()
    assert to_arrow(np.array(["a", "bc"])).type == pa.string()
    stamps = np.array(["2024-01-01T00:00", "NaT"], dtype="datetime64[s]")
    assert to_arrow(stamps).type == pa.timestamp("s") and to_arrow(stamps).null_count == 1


def test_object_and_mixed_columns_become_strings() -> None:
    text = to_arrow(np.array(["a", None, np.nan], dtype=object))
    assert text.type == pa.string() and text.to_pylist() == ["a", None, None]
    mixed = to_arrow(np.array(["a", 1, 2.5, b"x", None], dtype=object))
    assert mixed.to_pylist() == ["a", "1", "2.5", "x", None]
    assert to_arrow(np.array([1 + 2j])).to_pylist() == ["(1+2j)"]


def test_records_with_different_columns_and_types_stack() -> None:
    first = make_record(1, rows=2)
    second = InferenceRecord(
        "other",
        T0,
        "churn",
        4,
        200,
        2.0,
        inputs={"age": np.array(["old"], dtype=object), "extra": np.array([1.0])},
        outputs={"score": np.array([1], dtype=np.int64)},
    )
    table = records_table([first, second])
    assert table.num_rows == 3
    assert table.schema.field("input__age").type == pa.string()  # int64 and string: string
    assert table.schema.field("output__score").type == pa.float64()  # int64 and float64
    assert table.column("input__age").to_pylist() == ["1", "2", "old"]
    assert table.column("input__extra").to_pylist() == [None, None, 1.0]
    assert table.column("input__city").to_pylist()[2] is None

from __future__ import annotations

import numpy as np
import pytest

from modelward.scoring.ipc import HEADER, decode_columns, encode_columns, pack, unpack

CASES = {
    "one numeric block": {"a": np.array([1.0, 2.0]), "b": np.array([3.0, np.nan])},
    "mixed dtypes": {
        "a": np.array([1, 2]),
        "b": np.array([1.5, 2.5]),
        "c": np.array([True, False]),
    },
    "text": {"s": np.array(["x", None], dtype=object), "n": np.array([1.0, 2.0])},
    "times": {"t": np.array(["2024-01-01", "NaT"], dtype="datetime64[us]")},
    "empty": {"a": np.zeros(0), "b": np.zeros(0)},
    "single column": {"a": np.arange(3)},
}


@pytest.mark.parametrize("name", list(CASES))
def test_columns_round_trip(name: str) -> None:
    columns = CASES[name]
    frame = pack({"id": 7, "columns": encode_columns(columns)})
    (size,) = HEADER.unpack(frame[: HEADER.size])
    assert size == len(frame) - HEADER.size
    back = decode_columns(unpack(frame[HEADER.size :])["columns"])
    assert list(back) == list(columns)
    for key, array in columns.items():
        assert back[key].dtype == array.dtype
        np.testing.assert_array_equal(back[key], array)

"""Element types: the maps between OIP, numpy and signature types, and the value conversions."""

from __future__ import annotations

import numpy as np
import pytest

from modelward.errors import InvalidInputError
from modelward.scoring.codecs import datatypes as dt
from modelward.signatures import TYPES, ColumnSpec, Signature


def test_every_signature_type_has_an_oip_datatype_and_a_dtype() -> None:
    for kind in TYPES:
        assert dt.SIGNATURE_TO_OIP[kind] in dt.OIP_TO_NUMPY
        assert isinstance(dt.SIGNATURE_TO_NUMPY[kind], np.dtype)
    assert set(dt.NUMERIC) <= set(TYPES)


@pytest.mark.parametrize(
    ("values", "spec_type", "expected"),
    [
        (np.array([1.0, 2.0]), "long", np.int64),
        (np.array([1.0, np.nan]), "long", np.float64),  # nulls stay visible to validation
        (np.array([1.5]), "integer", np.float64),  # so do fractions
        (np.array([2**40]), "integer", np.int64),  # and values beyond int32
        (np.array([1, 2], dtype=np.int8), "double", np.float64),
        (np.array([1.0]), "float", np.float32),
    ],
)
def test_numeric_to_casts_only_when_nothing_is_lost(
    values: np.ndarray, spec_type: str, expected: type
) -> None:
    assert dt.numeric_to(values, spec_type).dtype == np.dtype(expected)


def test_datetimes_parse_iso_8601_and_move_offsets_to_utc() -> None:
    parsed = dt.datetimes(
        ["2024-03-01", "2024-03-01T12:00:00+01:00", "2024-03-01T12:00Z", None], "column 't'"
    )
    assert [str(v) for v in parsed] == [
        "2024-03-01T00:00:00.000000",
        "2024-03-01T11:00:00.000000",
        "2024-03-01T12:00:00.000000",
        "NaT",
    ]
    with pytest.raises(
        InvalidInputError,
        match=r"column 't': expected an ISO 8601 date-time, got \"01/03/2024\" \(row 1\)",
    ):
        dt.datetimes(["2024-03-01", "01/03/2024"], "column 't'")


def test_base64_decodes_and_names_the_bad_row() -> None:
    assert dt.base64s(["aGk=", None], "x").tolist() == [b"hi", None]
    with pytest.raises(InvalidInputError, match=r"row 1"):
        dt.base64s(["aGk=", "not base64!"], "x")


def test_show_keeps_error_messages_short() -> None:
    assert dt.show("x" * 100).endswith("...") and len(dt.show("x" * 100)) == 40
    assert dt.show(True) == "true" and dt.show(None) == "null"


def test_signature_index_follows_the_signature_object() -> None:
    first = Signature((ColumnSpec("a", "double"),))
    second = Signature((ColumnSpec("a", "long"),))
    assert dt.spec_types(first) == {"a": "double"} and dt.spec_types(second) == {"a": "long"}
    assert dt.spec_index(first, np.dtype(np.float64))[1] == {"a"}
    assert dt.spec_index(second, np.dtype(np.float64))[1] == frozenset()
    assert dt.spec_types(None) == {}

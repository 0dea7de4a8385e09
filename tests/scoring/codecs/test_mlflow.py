"""MLflow ``/invocations``: the four JSON layouts, CSV, content types and ``{"predictions": ...}``."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest

from modelward.errors import InvalidInputError, UnsupportedContentTypeError
from modelward.scoring.codecs import Decoded, decode_invocations, encode_invocations
from modelward.signatures import ColumnSpec, Signature

JSON = "application/json"
CSV = "text/csv"
SIG = Signature(
    (
        ColumnSpec("age", "long"),
        ColumnSpec("income", "double"),
        ColumnSpec("region", "string"),
        ColumnSpec("member", "boolean"),
    )
)
TYPED = Signature(
    (
        ColumnSpec("n", "integer"),
        ColumnSpec("x", "float"),
        ColumnSpec("when", "datetime"),
        ColumnSpec("blob", "binary"),
    )
)


def decode_json(payload: Any, signature: Signature | None = SIG) -> Decoded:
    return decode_invocations(msgspec.json.encode(payload), JSON, signature)


def plain(decoded: Decoded) -> dict[str, list[Any]]:
    return {name: column.tolist() for name, column in decoded.columns.items()}


ROWS = [[30, 1.5, "north", True], [40, None, "south", False]]
EXPECTED = {
    "age": [30, 40],
    "income": [1.5, None],
    "region": ["north", "south"],
    "member": [True, False],
}
LAYOUTS = {
    "dataframe_split": {
        "dataframe_split": {"columns": list(EXPECTED), "data": ROWS, "index": [0, 1]}
    },
    "dataframe_records": {
        "dataframe_records": [dict(zip(EXPECTED, row, strict=True)) for row in ROWS]
    },
    "instances records": {"instances": [dict(zip(EXPECTED, row, strict=True)) for row in ROWS]},
    "instances rows": {"instances": ROWS},
    "inputs columns": {"inputs": EXPECTED},
    "inputs rows": {"inputs": ROWS},
}


@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_every_json_layout_gives_the_same_typed_columns(layout: str) -> None:
    decoded = decode_json({**LAYOUTS[layout], "params": {"threshold": 0.7}})
    columns = decoded.columns
    assert decoded.rows == 2 and decoded.params == {"threshold": 0.7}
    assert decoded.request_id is None and decoded.outputs is None
    assert columns["age"].dtype == np.int64 and columns["income"].dtype == np.float64
    assert columns["region"].dtype == object and columns["member"].dtype == np.bool_
    values = plain(decoded)
    assert np.isnan(values.pop("income")[1])
    assert values == {k: v for k, v in EXPECTED.items() if k != "income"}


def test_one_row_of_numbers_takes_the_table_path() -> None:
    sig = Signature(
        tuple(ColumnSpec(f"f{i}", t) for i, t in enumerate(["double", "long", "float", "integer"]))
    )
    decoded = decode_json(
        {"dataframe_split": {"columns": ["f0", "f1", "f2", "f3"], "data": [[1, 2, 3, 4]]}}, sig
    )
    assert [c.dtype for c in decoded.columns.values()] == [
        np.float64,
        np.int64,
        np.float32,
        np.int32,
    ]
    assert plain(decoded) == {"f0": [1.0], "f1": [2], "f2": [3.0], "f3": [4]}


def test_signature_converts_untyped_json() -> None:
    decoded = decode_json(
        {
            "dataframe_records": [
                {"n": 1.0, "x": 2, "when": "2024-01-02T03:04:05Z", "blob": "aGk="},
                {"n": None, "x": None, "when": None, "blob": None},
            ]
        },
        TYPED,
    )
    columns = decoded.columns
    assert columns["n"].dtype == np.float64 and np.isnan(columns["n"][1])  # null: validation's job
    assert columns["x"].dtype == np.float32
    assert columns["when"].dtype == np.dtype("datetime64[us]") and np.isnat(columns["when"][1])
    assert columns["blob"].tolist() == [b"hi", None]


def test_without_signature_types_are_inferred_per_column() -> None:
    decoded = decode_json(
        {
            "inputs": {
                "i": [1, 2],
                "f": [1, 2.5],
                "b": [True, False],
                "s": ["a", None],
                "n": [None, 1],
                "mix": [1, "a"],
            }
        },
        None,
    )
    kinds = {name: column.dtype.kind for name, column in decoded.columns.items()}
    assert kinds == {"i": "i", "f": "f", "b": "b", "s": "O", "n": "f", "mix": "O"}


def test_records_missing_keys_are_null_and_columns_keep_first_seen_order() -> None:
    decoded = decode_json({"dataframe_records": [{"a": 1}, {"b": "x", "a": 2}]}, None)
    assert plain(decoded) == {"a": [1, 2], "b": [None, "x"]}


def test_values_in_order_without_signature_are_named_input_n() -> None:
    assert list(decode_json({"instances": [[1, 2], [3, 4]]}, None).columns) == [
        "input-0",
        "input-1",
    ]
    assert list(decode_json({"dataframe_split": {"data": [[1, 2]]}}, None).columns) == [
        "input-0",
        "input-1",
    ]
    assert plain(decode_json({"instances": [1, 2, 3]}, None)) == {"input-0": [1, 2, 3]}


def test_a_flat_list_fills_a_single_signature_column() -> None:
    sig = Signature((ColumnSpec("text", "string"),))
    assert plain(decode_json({"inputs": ["a", "b"]}, sig)) == {"text": ["a", "b"]}


def test_a_dict_of_single_values_is_one_row() -> None:
    decoded = decode_json({"inputs": {"age": 30, "income": 2.5, "region": "x", "member": False}})
    assert decoded.rows == 1 and plain(decoded)["income"] == [2.5]


def test_empty_inputs_with_params_is_a_forecast_request() -> None:
    decoded = decode_json({"inputs": [], "params": {"horizon": 6}})
    assert decoded.columns == {} and decoded.rows == 0 and decoded.params == {"horizon": 6}
    assert decode_json({"inputs": {}}).rows == 0


def test_records_without_fields_are_rows_without_columns() -> None:
    decoded = decode_json({"dataframe_records": [{}, {}]}, None)
    assert decoded.columns == {} and decoded.rows == 2


def test_content_type_parameters_and_byte_order_mark_are_accepted() -> None:
    payload = b"\xef\xbb\xbf" + msgspec.json.encode({"inputs": EXPECTED})
    assert decode_invocations(payload, "Application/JSON; charset=UTF-8", SIG).rows == 2
    latin = '{"inputs": {"region": ["Zürich"]}}'.encode("latin-1")
    assert plain(decode_invocations(latin, "application/json; charset=latin-1", None)) == {
        "region": ["Zürich"]
    }


# --- CSV ---------------------------------------------------------------------------------------
def test_csv_with_header_quotes_and_empty_fields() -> None:
    text = 'age,income,region,member\n30,1.5,"north, east",true\n40,,"say ""hi""",FALSE\n'
    decoded = decode_invocations(text.encode(), "text/csv; charset=utf-8", SIG)
    values = plain(decoded)
    assert decoded.rows == 2 and decoded.params == {}
    assert values["age"] == [30, 40] and np.isnan(values["income"][1])
    assert values["region"] == ["north, east", 'say "hi"'] and values["member"] == [True, False]


def test_csv_without_signature_infers_types() -> None:
    text = b"i,f,b,s,e\n1,1.5,true,x,\n2,2,false,,\n"
    decoded = decode_invocations(text, CSV, None)
    kinds = {name: column.dtype.kind for name, column in decoded.columns.items()}
    assert kinds == {"i": "i", "f": "f", "b": "b", "s": "O", "e": "f"}
    assert decoded.columns["s"].tolist() == ["x", None]


def test_csv_numbers_take_the_table_path_and_keep_types() -> None:
    sig = Signature((ColumnSpec("a", "double"), ColumnSpec("b", "long")))
    decoded = decode_invocations(b"a,b\n1.5,2\n2.5,3\r\n", CSV, sig)
    assert (
        plain(decoded) == {"a": [1.5, 2.5], "b": [2, 3]} and decoded.columns["b"].dtype == np.int64
    )
    assert plain(decode_invocations(b"a,b\n1,2\n", CSV, None)) == {"a": [1], "b": [2]}


def test_csv_typed_columns() -> None:
    text = b"n,x,when,blob\n1,2.5,2024-01-02 03:04:05,aGk=\n,,,\n"
    columns = decode_invocations(text, CSV, TYPED).columns
    assert columns["n"].dtype == np.float64 and np.isnan(columns["n"][1])
    assert columns["x"].dtype == np.float32 and columns["when"].dtype.kind == "M"
    assert columns["blob"].tolist() == [b"hi", None]
    boolean = Signature((ColumnSpec("ok", "boolean"),))
    assert decode_invocations(b"ok\n1\n0\nTrue\n\n", CSV, boolean).columns["ok"].tolist() == [
        True,
        False,
        True,
    ]


def test_csv_header_only_gives_empty_columns() -> None:
    decoded = decode_invocations(b"age,income\n", CSV, SIG)
    assert decoded.rows == 0 and [len(c) for c in decoded.columns.values()] == [0, 0]


# --- malformed requests ------------------------------------------------------------------------
BAD_JSON: dict[str, tuple[Any, str]] = {
    "no format key": (
        {"params": {}},
        "exactly one of dataframe_split, dataframe_records, instances, inputs",
    ),
    "two format keys": ({"instances": [], "inputs": []}, "got instances, inputs"),
    "unknown key": ({"inputs": [], "parms": {}}, "unknown field `parms`"),
    "not an object": ([1, 2], "Expected `object`, got `array`"),
    "records not objects": ({"dataframe_records": [1]}, "at `$.dataframe_records[0]`"),
    "split rows not lists": (
        {"dataframe_split": {"columns": ["a"], "data": [1]}},
        "at `$.dataframe_split.data[0]`",
    ),
    "split short row": (
        {"dataframe_split": {"columns": ["age", "income"], "data": [[1, 2], [3]]}},
        "row 1 has 1 values, expected 2",
    ),
    "duplicate columns": (
        {"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}},
        "duplicate column names: 'a'",
    ),
    "string in numeric": (
        {"dataframe_records": [{"age": 1}, {"age": "two"}]},
        "column 'age': expected a number (long), got \"two\" (row 1)",
    ),
    "bool in numeric": (
        {"inputs": {"income": [1.0, True]}},
        "column 'income': expected a number (double), got true (row 1)",
    ),
    "number in string": (
        {"inputs": {"region": ["a", 3]}},
        "column 'region': expected a string (string), got 3 (row 1)",
    ),
    "number in boolean": ({"inputs": {"member": [1]}}, "expected true or false, got 1 (row 0)"),
    "nested cell": ({"inputs": {"age": [[1]]}}, "row 0 holds a nested list"),
    "ragged columns": (
        {"inputs": {"age": [1, 2], "income": [1.0]}},
        "columns have different lengths",
    ),
    "lists and scalars": ({"inputs": {"age": [1], "income": 1.0}}, "mix lists and single values"),
    "mixed list": ({"instances": [[1], {"a": 1}]}, "mixes records, rows and single values"),
    "flat list, many columns": (
        {"inputs": [1, 2]},
        "this one takes 4 (age, income, region, member)",
    ),
    "rows of wrong width": ({"instances": [[1, 2]]}, "row 0 has 2 values, expected 4"),
    "huge number": ({"inputs": {"income": [10**400]}}, "too large"),
}


@pytest.mark.parametrize("case", list(BAD_JSON), ids=list(BAD_JSON))
def test_malformed_json_raises_invalid_input_with_a_precise_message(case: str) -> None:
    payload, fragment = BAD_JSON[case]
    with pytest.raises(InvalidInputError) as caught:
        decode_json(payload)
    assert fragment in str(caught.value)


BAD_BODIES = {
    "empty json": (b"", JSON, "empty request body"),
    "truncated json": (b'{"inputs": [1', JSON, "not valid JSON"),
    "NaN literal": (b'{"inputs": [NaN]}', JSON, "not valid JSON"),
    "not utf-8": (b'{"inputs": ["\xff"]}', JSON, "not valid JSON"),
    "empty csv": (b"", CSV, "empty CSV body"),
    "csv ragged": (b"age,income\n1\n", CSV, "CSV line 2 has 1 fields, but the header names 2"),
    "csv unnamed column": (b"age,\n1,2\n", CSV, "column 2 has no name"),
    "csv duplicate column": (b"a,a\n1,2\n", CSV, "duplicate column names"),
    "csv bad quoting": (b'age\n"1"x\n', CSV, "malformed CSV"),
    "csv text in number": (
        b"age\n1\nabc\n",
        CSV,
        "column 'age': expected a finite number (long), got \"abc\" (row 1)",
    ),
    "csv infinity": (b"income\ninf\n", CSV, "expected a finite number (double)"),
    "csv bad boolean": (b"member\nyes\n", CSV, 'expected true or false, got "yes" (row 0)'),
    "csv not utf-8": (b"region\n\xff\n", CSV, "not valid utf-8 text"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES), ids=list(BAD_BODIES))
def test_malformed_bodies_raise_invalid_input(case: str) -> None:
    payload, content_type, fragment = BAD_BODIES[case]
    with pytest.raises(InvalidInputError) as caught:
        decode_invocations(payload, content_type, SIG)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "", "application/x-www-form-urlencoded", "application/json; charset=klingon"],
)
def test_unsupported_content_types_name_the_supported_ones(content_type: str) -> None:
    with pytest.raises(UnsupportedContentTypeError, match="unsupported"):
        decode_invocations(b"{}", content_type, SIG)


# --- encoding ----------------------------------------------------------------------------------
def test_one_output_is_a_flat_list_with_nulls_for_nan() -> None:
    assert msgspec.json.decode(encode_invocations({"p": np.array([0.5, np.nan])})) == {
        "predictions": [0.5, None]
    }


def test_several_outputs_are_records_with_iso_datetimes() -> None:
    outputs = {
        "label": np.array([1, 0]),
        "proba": np.array([[0.2, 0.8], [0.9, 0.1]]),
        "when": np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[ns]"),
    }
    assert msgspec.json.decode(encode_invocations(outputs)) == {
        "predictions": [
            {"label": 1, "proba": [0.2, 0.8], "when": "2024-01-02T03:04:05"},
            {"label": 0, "proba": [0.9, 0.1], "when": None},
        ]
    }


def test_no_outputs_is_an_empty_list() -> None:
    assert msgspec.json.decode(encode_invocations({})) == {"predictions": []}

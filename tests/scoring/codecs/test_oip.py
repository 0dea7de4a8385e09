"""Open Inference Protocol v2: requests to columns, columns to responses, metadata."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest

from modelward.errors import InvalidInputError
from modelward.scoring.codecs import (
    decode_oip_infer,
    encode_oip_infer,
    error_body,
    oip_model_metadata,
    oip_server_metadata,
)
from modelward.signatures import ColumnSpec, Signature

SIG = Signature(
    (
        ColumnSpec("age", "long"),
        ColumnSpec("income", "double"),
        ColumnSpec("region", "string"),
        ColumnSpec("member", "boolean"),
    ),
    (ColumnSpec("prediction", "double"),),
)
NUMERIC_SIG = Signature(tuple(ColumnSpec(f"f{i}", "double") for i in range(3)))


def body(*inputs: dict[str, Any], **extra: Any) -> bytes:
    return msgspec.json.encode({"inputs": list(inputs), **extra})


def tensor(
    name: str, datatype: str, data: list[Any], shape: list[int] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "datatype": datatype,
        "shape": [len(data)] if shape is None else shape,
        "data": data,
    }


def decode(payload: bytes, signature: Signature | None = None) -> dict[str, np.ndarray]:
    return decode_oip_infer(payload, signature).columns


# --- decoding ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("datatype", "data", "dtype"),
    [
        ("BOOL", [True, False], np.bool_),
        ("UINT8", [0, 255], np.uint8),
        ("UINT16", [0, 65535], np.uint16),
        ("UINT32", [0, 2**32 - 1], np.uint32),
        ("UINT64", [0, 2**64 - 1], np.uint64),
        ("INT8", [-128, 127], np.int8),
        ("INT16", [-(2**15), 2**15 - 1], np.int16),
        ("INT32", [-(2**31), 2**31 - 1], np.int32),
        ("INT64", [-(2**63), 2**63 - 1], np.int64),
        ("FP16", [0.5, -2.0], np.float16),
        ("FP32", [0.25, -3.5], np.float32),
        ("FP64", [0.1, 1e300], np.float64),
        ("BYTES", ["a", "ü"], object),
    ],
)
def test_every_datatype_decodes_to_its_dtype_and_round_trips(
    datatype: str, data: list[Any], dtype: Any
) -> None:
    decoded = decode_oip_infer(body(tensor("x", datatype, data)), None)
    column = decoded.columns["x"]
    assert column.dtype == np.dtype(dtype) and column.tolist() == data and decoded.rows == 2
    response = msgspec.json.decode(encode_oip_infer("m", "1", None, {"x": column}))
    assert response["outputs"] == [{"name": "x", "shape": [2], "datatype": datatype, "data": data}]


def test_one_input_per_column_with_id_params_and_requested_outputs() -> None:
    payload = body(
        tensor("age", "INT64", [30, 40]),
        tensor("income", "FP64", [1.5, None]),
        tensor("region", "BYTES", ["north", "south"]),
        tensor("member", "BOOL", [True, False], [2, 1]),
        id="req-1",
        parameters={"content_type": "pd", "horizon": 12, "proba": True, "headers": {"a": "b"}},
        outputs=[{"name": "prediction"}],
    )
    decoded = decode_oip_infer(payload, SIG)
    assert list(decoded.columns) == ["age", "income", "region", "member"]
    assert decoded.columns["age"].dtype == np.int64
    np.testing.assert_array_equal(decoded.columns["income"], [1.5, np.nan])
    assert decoded.columns["region"].tolist() == ["north", "south"]
    assert decoded.columns["member"].tolist() == [True, False]
    assert decoded.rows == 2 and decoded.request_id == "req-1"
    assert decoded.params == {"horizon": 12, "proba": True}
    assert decoded.outputs == ["prediction"]


def test_signature_types_convert_typed_data() -> None:
    sig = Signature(
        (
            ColumnSpec("a", "double"),
            ColumnSpec("b", "long"),
            ColumnSpec("c", "long"),
            ColumnSpec("d", "integer"),
            ColumnSpec("e", "float"),
            ColumnSpec("when", "datetime"),
            ColumnSpec("blob", "binary"),
        )
    )
    columns = decode(
        body(
            tensor("a", "INT32", [1, 2]),
            tensor("b", "FP64", [1.0, 2.0]),
            tensor("c", "FP64", [1.5, None]),  # left as floats: validation names the rows
            tensor("d", "INT64", [3, 4]),
            tensor("e", "FP64", [0.5, 1.5]),
            tensor("when", "BYTES", ["2024-01-02T03:04:05", "2024-01-02T05:04:05+02:00"]),
            tensor("blob", "BYTES", ["aGk=", None]),
        ),
        sig,
    )
    assert columns["a"].dtype == np.float64 and columns["a"].tolist() == [1.0, 2.0]
    assert columns["b"].dtype == np.int64 and columns["b"].tolist() == [1, 2]
    assert columns["c"].dtype == np.float64 and np.isnan(columns["c"][1])
    assert columns["d"].dtype == np.int32
    assert columns["e"].dtype == np.float32
    assert columns["when"].dtype == np.dtype("datetime64[us]")
    assert columns["when"].tolist()[1].isoformat() == "2024-01-02T03:04:05"  # offsets go to UTC
    assert columns["blob"].tolist() == [b"hi", None]


def test_integer_input_with_nulls_becomes_float_with_nan() -> None:
    column = decode(body(tensor("age", "INT64", [1, None])), SIG)["age"]
    assert column.dtype == np.float64 and np.isnan(column[1])


def test_a_null_in_one_input_leaves_the_others_of_its_datatype_alone() -> None:
    columns = decode(
        body(
            tensor("a", "INT64", [1, None]),
            tensor("b", "INT64", [1, 2]),
            tensor("c", "BOOL", [True, None]),
            tensor("d", "BOOL", [True, False]),
        )
    )
    assert [c.dtype.kind for c in columns.values()] == ["f", "i", "O", "b"]


def test_nested_and_flattened_data_decode_the_same() -> None:
    nested = decode(body(tensor("x", "FP64", [[1, 2, 3], [4, 5, 6]], [2, 3])), NUMERIC_SIG)
    flat = decode(body(tensor("x", "FP64", [1, 2, 3, 4, 5, 6], [2, 3])), NUMERIC_SIG)
    assert list(nested) == list(flat) == ["f0", "f1", "f2"]
    for name in nested:
        np.testing.assert_array_equal(nested[name], flat[name])
    np.testing.assert_array_equal(nested["f1"], [2.0, 5.0])


def test_a_2d_tensor_named_np_splits_into_signature_columns() -> None:
    payload = body(
        tensor("input-0", "INT64", [[1, 2, 3]], [1, 3]), parameters={"content_type": "np"}
    )
    columns = decode(payload, NUMERIC_SIG)
    assert {k: v.tolist() for k, v in columns.items()} == {"f0": [1.0], "f1": [2.0], "f2": [3.0]}
    assert all(c.dtype == np.float64 for c in columns.values())


def test_a_2d_tensor_without_signature_gets_numbered_columns() -> None:
    columns = decode(body(tensor("x", "FP32", [[1, 2], [3, 4]], [2, 2])))
    assert list(columns) == ["x_0", "x_1"] and columns["x_1"].tolist() == [2.0, 4.0]
    single = decode(body(tensor("x", "FP32", [[1], [3]], [2, 1])))
    assert list(single) == ["x"]


def test_input_content_types_base64_and_datetime() -> None:
    payload = body(
        {**tensor("raw", "BYTES", ["aGk="]), "parameters": {"content_type": "base64"}},
        {**tensor("t", "BYTES", ["2024-05-01"]), "parameters": {"content_type": "datetime"}},
        {**tensor("s", "BYTES", ["x"]), "parameters": {"content_type": "str"}},
    )
    columns = decode(payload)
    assert columns["raw"].tolist() == [b"hi"]
    assert columns["t"].dtype.kind == "M" and str(columns["t"][0]) == "2024-05-01T00:00:00.000000"
    assert columns["s"].tolist() == ["x"]


def test_empty_inputs_with_a_horizon_is_a_time_series_request() -> None:
    decoded = decode_oip_infer(body(parameters={"horizon": 12}), SIG)
    assert decoded.columns == {} and decoded.rows == 0 and decoded.params == {"horizon": 12}
    assert decoded.outputs is None and decoded.request_id is None


def test_zero_rows_keep_their_columns() -> None:
    decoded = decode_oip_infer(body(tensor("x", "FP64", [], [0, 2])), None)
    assert decoded.rows == 0 and [c.shape for c in decoded.columns.values()] == [(0,), (0,)]


# --- malformed requests ------------------------------------------------------------------------
BAD = {
    "empty body": (b"", "empty request body"),
    "not json": (b"{inputs", "not valid JSON"),
    "not an object": (b"[1, 2]", "Expected `object`"),
    "no inputs": (b"{}", "missing required field `inputs`"),
    "NaN literal": (
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [NaN]}]}',
        "not valid JSON",
    ),
    "Infinity literal": (
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [Infinity]}]}',
        "not valid JSON",
    ),
    "huge float": (
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1e999]}]}',
        "out of range",
    ),
    "huge integer": (body(tensor("x", "FP64", [10**400])), "too large"),
    "unknown datatype": (body(tensor("x", "FLOAT", [1])), "unknown datatype 'FLOAT'"),
    "shape mismatch": (
        body(tensor("x", "FP64", [1, 2], [3])),
        "shape [3] holds 3 values, but data has 2",
    ),
    "bool for FP64": (
        body(tensor("x", "FP64", [1.0, True])),
        "expected a number (FP64), got true (row 1)",
    ),
    "string for INT64": (body(tensor("x", "INT64", [1, "2"])), 'got "2" (row 1)'),
    "number for BYTES": (body(tensor("x", "BYTES", ["a", 1])), "expected a string (BYTES), got 1"),
    "number for BOOL": (body(tensor("x", "BOOL", [1])), "expected true or false (BOOL)"),
    "fraction for INT32": (body(tensor("x", "INT32", [1.5])), "whole number"),
    "overflow UINT8": (body(tensor("x", "UINT8", [256])), "256 is out of range for UINT8"),
    "negative UINT": (body(tensor("x", "UINT32", [-1])), "out of range for UINT32"),
    "FP16 overflow": (body(tensor("x", "FP16", [1e10])), "too large for float16"),
    "ragged": (body(tensor("x", "FP64", [[1, 2], [3]], [2, 2])), "ragged"),
    "nested in 1-D": (body(tensor("x", "FP64", [1, [2]], [2])), "row 1 holds a nested list"),
    "nested wrong shape": (
        body(tensor("x", "FP64", [[1, 2, 3], [4, 5, 6]], [3, 2])),
        "nested as [2, 3]",
    ),
    "scalar shape first": (
        body(tensor("a", "BOOL", [True], []), tensor("b", "BOOL", [True])),
        "shape [] has 0 dimensions",
    ),
    "3-D": (body(tensor("x", "FP64", [1], [1, 1, 1])), "3 dimensions"),
    "negative shape": (body(tensor("x", "FP64", [], [-1])), "negative dimension"),
    "row counts": (
        body(tensor("a", "FP64", [1]), tensor("b", "FP64", [1, 2])),
        "different row counts",
    ),
    "duplicate input": (
        body(tensor("a", "FP64", [1]), tensor("a", "FP64", [2])),
        "'a' is given twice",
    ),
    "split collides": (
        body(tensor("x", "FP64", [1, 2], [1, 2]), tensor("x_0", "FP64", [1])),
        "'x_0' is given twice",
    ),
    "wrong JSON type": (
        b'{"inputs": [{"name": 1, "shape": [1], "datatype": "FP64", "data": [1]}]}',
        "Expected `str`, got `int` - at `$.inputs[0].name`",
    ),
    "data not a list": (
        b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": 1}]}',
        "at `$.inputs[0].data`",
    ),
    "id not a string": (body(tensor("x", "FP64", [1]), id=5), "at `$.id`"),
    "request content type": (
        body(tensor("x", "FP64", [1]), parameters={"content_type": "json"}),
        "unknown request content_type",
    ),
    "input content type": (
        body({**tensor("x", "BYTES", ["a"]), "parameters": {"content_type": "hex"}}),
        "unknown content_type",
    ),
    "base64 needs BYTES": (
        body({**tensor("x", "FP64", [1]), "parameters": {"content_type": "base64"}}),
        "needs datatype BYTES",
    ),
    "bad base64": (
        body({**tensor("x", "BYTES", ["%%%"]), "parameters": {"content_type": "base64"}}),
        "base64",
    ),
    "bad datetime": (
        body({**tensor("x", "BYTES", ["soon"]), "parameters": {"content_type": "datetime"}}),
        "ISO 8601",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_malformed_requests_raise_invalid_input_with_a_precise_message(case: str) -> None:
    payload, fragment = BAD[case]
    with pytest.raises(InvalidInputError) as caught:
        decode_oip_infer(payload, None)
    assert fragment in str(caught.value)


SIG_BAD = {
    "string for double": (
        body(tensor("income", "BYTES", ["x"])),
        "column 'income' is double in the model signature, but the request sends BYTES",
    ),
    "bool for long": (body(tensor("age", "BOOL", [True])), "sends BOOL"),
    "number for string": (body(tensor("region", "FP64", [1.0])), "sends FP64"),
    "number for boolean": (body(tensor("member", "INT64", [1])), "sends INT64"),
    "2-D for a column": (
        body(tensor("age", "INT64", [1, 2], [1, 2])),
        "'age' has 2 values per row",
    ),
    "2-D of wrong width": (body(tensor("x", "FP64", [1, 2], [1, 2])), "the model takes 4 columns"),
}


@pytest.mark.parametrize("case", list(SIG_BAD), ids=list(SIG_BAD))
def test_typed_data_that_cannot_become_the_signature_type_is_refused(case: str) -> None:
    payload, fragment = SIG_BAD[case]
    with pytest.raises(InvalidInputError) as caught:
        decode_oip_infer(payload, SIG)
    assert fragment in str(caught.value)


# --- encoding ----------------------------------------------------------------------------------
def test_response_carries_model_id_outputs_in_order_and_nulls_for_nan() -> None:
    outputs = {
        "prediction": np.array([0.25, np.nan]),
        "label": np.array(["yes", None], dtype=object),
        "when": np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[s]"),
        "proba": np.array([[0.1, 0.9], [0.8, 0.2]], dtype=np.float32),
    }
    response = msgspec.json.decode(
        encode_oip_infer("credit", "3", "req-7", outputs, parameters={"horizon": 2})
    )
    assert response["model_name"] == "credit" and response["model_version"] == "3"
    assert response["id"] == "req-7" and response["parameters"] == {"horizon": 2}
    by_name = {o["name"]: o for o in response["outputs"]}
    assert list(by_name) == ["prediction", "label", "when", "proba"]
    assert by_name["prediction"] == {
        "name": "prediction",
        "shape": [2],
        "datatype": "FP64",
        "data": [0.25, None],
    }
    assert by_name["label"]["datatype"] == "BYTES" and by_name["label"]["data"] == ["yes", None]
    assert by_name["when"]["data"] == ["2024-01-02T03:04:05", None]
    assert by_name["when"]["parameters"] == {"content_type": "datetime"}
    assert by_name["proba"]["shape"] == [2, 2] and by_name["proba"]["datatype"] == "FP32"
    assert len(by_name["proba"]["data"]) == 4


def test_response_without_id_leaves_it_out_and_filters_requested_outputs() -> None:
    outputs = {"a": np.array([1]), "b": np.array([True])}
    response = msgspec.json.decode(encode_oip_infer("m", "1", None, outputs, ["b"]))
    assert "id" not in response and "parameters" not in response
    assert [o["name"] for o in response["outputs"]] == ["b"]
    assert response["outputs"][0]["datatype"] == "BOOL"


def test_unknown_requested_output_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="unknown output 'nope'; the model gives 'a'"):
        encode_oip_infer("m", "1", None, {"a": np.array([1.0])}, ["nope"])


@pytest.mark.parametrize(
    ("values", "datatype"),
    [
        ([1, None], "INT64"),
        ([1.5, 2], "FP64"),
        ([np.float32(0.5), None], "FP32"),
        ([True, None], "BOOL"),
        ([b"x", "y"], "BYTES"),
        (["x", float("nan")], "BYTES"),
        ([None, None], "BYTES"),
    ],
)
def test_object_outputs_are_typed_by_what_they_hold(values: list[Any], datatype: str) -> None:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    response = msgspec.json.decode(encode_oip_infer("m", "1", None, {"o": array}))
    assert response["outputs"][0]["datatype"] == datatype


def test_numpy_scalars_inside_object_arrays_encode() -> None:
    array = np.array(
        [np.int64(3), np.float32(0.5), np.datetime64("2024-01-01"), None], dtype=object
    )
    response = msgspec.json.decode(encode_oip_infer("m", "1", None, {"o": array}))
    assert response["outputs"][0]["data"] == [3, 0.5, "2024-01-01T00:00:00", None]


def test_a_response_decodes_back_as_a_request() -> None:
    sig = Signature((*SIG.inputs, ColumnSpec("when", "datetime"), ColumnSpec("blob", "binary")))
    outputs = {
        "age": np.array([1, 2]),
        "income": np.array([0.5, np.nan]),
        "region": np.array(["a", None], dtype=object),
        "member": np.array([True, False]),
        "when": np.array(["2024-01-02T03:04:05.250", "NaT"], dtype="datetime64[us]"),
        "blob": np.array([b"\x00\xff", None], dtype=object),
    }
    response = msgspec.json.decode(encode_oip_infer("m", "1", None, outputs))
    for signature in (sig, None):
        columns = decode(msgspec.json.encode({"inputs": response["outputs"]}), signature)
        assert list(columns) == list(outputs)
        for name, column in columns.items():
            if signature is None and name == "blob":
                continue  # without a signature, base64 text stays text
            assert column.dtype == outputs[name].dtype, name
            np.testing.assert_array_equal(column, outputs[name])


# --- metadata and errors -----------------------------------------------------------------------
def test_model_metadata_lists_signature_tensors() -> None:
    sig = Signature(
        (ColumnSpec("age", "integer"), ColumnSpec("when", "datetime")), (ColumnSpec("p", "double"),)
    )
    meta = msgspec.json.decode(oip_model_metadata("credit", ["1", "2"], "sklearn", sig))
    assert meta == {
        "name": "credit",
        "versions": ["1", "2"],
        "platform": "sklearn",
        "inputs": [
            {"name": "age", "datatype": "INT32", "shape": [-1]},
            {
                "name": "when",
                "datatype": "BYTES",
                "shape": [-1],
                "parameters": {"content_type": "datetime"},
            },
        ],
        "outputs": [{"name": "p", "datatype": "FP64", "shape": [-1]}],
    }
    bare = msgspec.json.decode(oip_model_metadata("m", [], "python", None))
    assert bare["inputs"] == [] and bare["outputs"] == []


def test_server_metadata_and_error_body() -> None:
    meta = msgspec.json.decode(oip_server_metadata("0.1.0"))
    assert meta["name"] == "modelward" and meta["version"] == "0.1.0"
    assert isinstance(meta["extensions"], list)
    assert msgspec.json.decode(error_body('bad "x"')) == {"error": 'bad "x"'}

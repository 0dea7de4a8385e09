"""The wire format: what the engine writes, what it accepts back, and the restart backoff."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.errors import InvalidInputError, ModelFailedError
from modelward.runtimes.process.protocol import (
    ModelReportedError,
    ProtocolError,
    decode,
    describe_request,
    from_wire,
    parse_describe,
    parse_result,
    predict_request,
    to_wire,
)
from modelward.runtimes.process.supervisor import Backoff
from modelward.signatures import ColumnSpec

DESCRIBE = {
    "type": "describe",
    "protocol": 1,
    "signature": {"inputs": [{"name": "x", "type": "double"}]},
}


def test_requests_are_compact_ascii_lines_with_keys_in_a_fixed_order() -> None:
    assert describe_request() == b'{"type":"describe"}\n'
    line = predict_request("r7", {"x": [1.5, None], "nom": ["é"]}, {"k": 2})
    assert line == (
        b'{"type":"predict","id":"r7","columns":{"x":[1.5,null],"nom":["\\u00e9"]},'
        b'"params":{"k":2}}\n'
    )
    with pytest.raises(InvalidInputError, match="plain JSON values"):
        predict_request("r1", {}, {"k": object()})


def test_to_wire_makes_every_value_json_safe() -> None:
    columns = {
        "f": np.array([1.5, np.nan]),
        "i": np.array([1, 2], dtype="int32"),
        "b": np.array([True, False]),
        "s": np.array(["a", None], dtype=object),
        "t": np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[ns]"),
        "o": np.array([np.int64(3), b"\x00\x01"], dtype=object),
        "d": np.array([dt.date(2024, 1, 2), pd.NA], dtype=object),
    }
    wire = to_wire(columns)
    assert json.loads(json.dumps(wire, allow_nan=False)) == {
        "f": [1.5, None],
        "i": [1, 2],
        "b": [True, False],
        "s": ["a", None],
        "t": ["2024-01-02T03:04:05", None],
        "o": [3, "AAE="],
        "d": ["2024-01-02", None],
    }
    with pytest.raises(InvalidInputError, match="infinite"):
        to_wire({"f": np.array([np.inf])})
    with pytest.raises(InvalidInputError, match="cannot send"):
        to_wire({"o": np.array([{"a": 1}], dtype=object)})


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "not a message with a type"),
        (b'{"id": "r1"}\n', "not a message with a type"),
        (b'{"type": "result"', "unterminated line"),
    ],
)
def test_decode_refuses_garbage(line: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        decode(line)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"type": "result"}, "answered describe with a 'result'"),
        ({"protocol": 2}, "speaks protocol 2"),
        ({"signature": None}, "signature is not valid"),
        ({"signature": {"inputs": [{"name": "x", "type": "complex"}]}}, "unknown type"),
        ({"extra": 1}, "unknown keys: extra"),
        ({"params": {"k": 1}}, "'params' must map"),
    ],
)
def test_parse_describe_refuses_bad_answers(change: dict[str, Any], says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        parse_describe({**DESCRIBE, **change})


def test_parse_describe_reads_name_version_and_params() -> None:
    described = parse_describe({**DESCRIBE, "name": "m", "version": 3, "params": {"k": "a knob"}})
    assert described.signature.input_names == ["x"]
    assert (described.name, described.version, described.params) == ("m", "3", {"k": "a knob"})


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"type": "result", "id": "r2", "columns": {"y": [1]}}, "answered request 'r2'"),
        ({"type": "result", "id": "r1"}, "no 'columns'"),
        ({"type": "result", "id": "r1", "columns": {"y": 1}}, "not an array"),
        ({"type": "result", "id": "r1", "columns": {"y": [1, 2]}}, "2 rows for 1 input rows"),
        ({"type": "result", "id": "r1", "columns": {"y": [[1]]}}, "nested"),
        ({"type": "describe", "id": "r1"}, "with a 'describe' message"),
    ],
)
def test_parse_result_refuses_wrong_answers(message: dict[str, Any], says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        parse_result(message, "r1", 1)


def test_parse_result_returns_columns_or_the_programs_error() -> None:
    assert parse_result({"type": "result", "id": "r1", "columns": {"y": [1]}}, "r1", 1) == {
        "y": [1]
    }
    with pytest.raises(ModelReportedError, match="bad x"):
        parse_result({"type": "error", "id": "r1", "message": "bad x"}, "r1", 1)


def test_from_wire_follows_the_declared_output_types() -> None:
    outputs = [ColumnSpec("p", "double"), ColumnSpec("n", "long"), ColumnSpec("s", "string")]
    out = from_wire(
        {"p": [1, None], "n": [1, 2], "s": ["a", None], "extra": [True, False]}, outputs
    )
    assert out["p"].dtype == np.float64 and np.isnan(out["p"][1])
    assert out["n"].dtype == np.int64 and out["extra"].dtype == np.bool_
    assert out["s"].tolist() == ["a", None]
    with pytest.raises(ModelFailedError, match="declares output 'p' as double but answered 'x'"):
        from_wire({"p": ["x"]}, outputs)


def test_backoff_doubles_to_its_maximum_and_resets_after_a_healthy_run() -> None:
    backoff = Backoff(initial=0.1, maximum=0.5, healthy_after=5.0)
    assert [backoff.delay(uptime=0.0) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert backoff.delay(uptime=10.0) == 0.1
    assert backoff.delay(uptime=1.0) == 0.2

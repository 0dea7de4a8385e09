"""Whatever a client sends, the decoders answer with columns or InvalidInputError, nothing else.

Anything else would reach the server as a 500. The payloads are random JSON-ish values, shaped
like OIP and MLflow requests often enough to get past the first checks, plus random bytes,
truncated JSON and random CSV text.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelward.errors import InvalidInputError
from modelward.scoring.codecs import (
    Decoded,
    decode_invocations,
    decode_oip_infer,
    encode_invocations,
    encode_oip_infer,
)
from modelward.signatures import TYPES, ColumnSpec, Signature

NAMES = ["a", "b", "c", "a_0", "input-0", ""]
SIGNATURES = st.sampled_from(
    [
        None,
        Signature((ColumnSpec("a", "double"), ColumnSpec("b", "long"), ColumnSpec("c", "string"))),
        Signature(
            tuple(
                ColumnSpec(n, t)
                for n, t in zip("abc", ("boolean", "datetime", "binary"), strict=True)
            )
        ),
        Signature((ColumnSpec("a", "integer"),)),
        Signature(tuple(ColumnSpec(f"x{i}", t) for i, t in enumerate(TYPES))),
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2024-01-02T03:04:05Z", "aGk=", "1.5", "true", "", "NaN"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)
    ),
    max_leaves=12,
)
ROW = st.lists(SCALARS, min_size=0, max_size=4)
DATATYPES = st.sampled_from(
    [
        "BOOL",
        "UINT8",
        "UINT64",
        "INT8",
        "INT32",
        "INT64",
        "FP16",
        "FP32",
        "FP64",
        "BYTES",
        "FLOAT",
        "",
    ]
)
CONTENT = st.sampled_from(["np", "pd", "str", "base64", "datetime", "hex", 3])


NUMBERS = (
    st.integers(-300, 300)
    | st.floats(-1e6, 1e6)
    | st.none()
    | st.sampled_from([2**64, -(2**63) - 1, 1e300, 0.5])
)
TYPED = {
    "BOOL": st.booleans() | st.none(),
    "BYTES": st.text(max_size=6)
    | st.none()
    | st.sampled_from(["2024-01-02T03:04:05+01:00", "aGk=", "%"]),
}


@st.composite
def cells(draw: st.DrawFn, datatype: str) -> Any:
    """A value that mostly fits ``datatype``, and now and then any value at all."""
    kind = draw(st.sampled_from(["fit"] * 30 + ["scalar", "any"]))
    return draw({"fit": TYPED.get(datatype, NUMBERS), "scalar": SCALARS, "any": VALUES}[kind])


RARELY = st.sampled_from([False] * 19 + [True])  # shrinks towards False


def sometimes(value: Any, draw: st.DrawFn) -> Any:
    """``value``, or (one time in twenty) any JSON value instead."""
    return draw(VALUES) if draw(RARELY) else value


@st.composite
def oip_inputs(draw: st.DrawFn, rows: int) -> dict[str, Any]:
    datatype = draw(DATATYPES)
    width = draw(st.sampled_from([None, 1, 2, 3]))
    shape = [rows] if width is None else [rows, width]
    count = rows * (width or 1) + draw(st.sampled_from([0] * 9 + [1, -1]))
    data = draw(st.lists(cells(datatype), min_size=max(count, 0), max_size=max(count, 0)))
    if width and draw(st.booleans()):
        data = [data[i : i + width] for i in range(0, len(data), width)]  # the nested form
    item: dict[str, Any] = {
        "name": sometimes(draw(st.sampled_from(NAMES)), draw),
        "shape": sometimes(shape, draw),
        "datatype": sometimes(datatype, draw),
        "data": sometimes(data, draw),
    }
    if draw(st.sampled_from([False, False, False, True])):
        item["parameters"] = {"content_type": draw(CONTENT)}
    if draw(RARELY):
        del item[draw(st.sampled_from(list(item)))]
    return item


@st.composite
def oip_requests(draw: st.DrawFn) -> Any:
    rows = draw(st.sampled_from([1, 2, 3, 0]))
    request: dict[str, Any] = {
        "inputs": sometimes(draw(st.lists(oip_inputs(rows), min_size=1, max_size=4)), draw)
    }
    for key, value in (
        ("id", st.text(max_size=4)),
        (
            "parameters",
            st.fixed_dictionaries({}, optional={"content_type": CONTENT, "horizon": VALUES}),
        ),
        (
            "outputs",
            st.lists(st.fixed_dictionaries({"name": st.sampled_from(NAMES)}), max_size=2) | VALUES,
        ),
    ):
        if draw(st.booleans()):
            request[key] = draw(value)
    return sometimes(request, draw)


@st.composite
def mlflow_requests(draw: st.DrawFn) -> Any:
    rows = draw(st.sampled_from([1, 2, 3, 0]))
    names = draw(
        st.lists(st.sampled_from(["a", "b", "c", "x0", "x5", "input-0"]), min_size=1, max_size=3)
    )
    table = [[draw(cells(draw(DATATYPES))) for _ in names] for _ in range(rows)]
    layout = draw(
        st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs", "params"])
    )
    shape = draw(st.sampled_from(["rows", "records", "columns", "flat"]))
    data: Any = {
        "rows": table,
        "records": [dict(zip(names, row, strict=False)) for row in table],
        "columns": {n: [row[i] for row in table] for i, n in enumerate(names)},
        "flat": [row[0] for row in table],
    }[shape]
    if layout == "dataframe_split":
        data = {"columns": sometimes(names, draw), "data": data}
    request: dict[str, Any] = {layout: sometimes(data, draw)}
    if draw(st.booleans()):
        request["params"] = draw(VALUES)
    if draw(RARELY):
        request[draw(st.sampled_from(NAMES))] = draw(VALUES)
    return sometimes(request, draw)


@st.composite
def json_bodies(draw: st.DrawFn, requests: st.SearchStrategy[Any]) -> bytes:
    """A request encoded, now and then truncated, or plain random bytes."""
    body = msgspec.json.encode(draw(requests))
    kind = draw(st.sampled_from(["whole"] * 6 + ["truncated", "bytes"]))
    if kind == "truncated":
        return body[: draw(st.integers(0, len(body)))]
    return draw(st.binary(max_size=64)) if kind == "bytes" else body


CSV_TEXT = st.text(alphabet=st.sampled_from(list('abc,"\n\r 01.-eTtrufalsZ:\x00é')), max_size=60)
CSV_TABLES = st.lists(
    st.lists(
        st.sampled_from(["1", "2.5", "", "x", "true", '"q,"', "inf", "1e999"]),
        min_size=3,
        max_size=3,
    ),
    max_size=4,
).map(lambda rows: "a,b,c\n" + "\n".join(",".join(r) for r in rows))
FUZZ = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def check(decoded: Decoded) -> None:
    """A decoded request is 1-D columns of ``rows`` values, and they encode again."""
    for column in decoded.columns.values():
        assert isinstance(column, np.ndarray) and column.ndim == 1 and len(column) == decoded.rows
    encode_oip_infer("m", "1", decoded.request_id, decoded.columns)
    encode_invocations(decoded.columns)


@FUZZ
@given(body=json_bodies(oip_requests()), signature=SIGNATURES)
def test_oip_decoding_never_raises_anything_but_invalid_input(
    body: bytes, signature: Signature | None
) -> None:
    try:
        decoded = decode_oip_infer(body, signature)
    except InvalidInputError:
        return
    check(decoded)


@FUZZ
@given(
    body=json_bodies(mlflow_requests()),
    signature=SIGNATURES,
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "text/csv",
            "text/plain",
        ]
    ),
)
def test_mlflow_json_decoding_never_raises_anything_but_invalid_input(
    body: bytes, signature: Signature | None, content_type: str
) -> None:
    try:
        decoded = decode_invocations(body, content_type, signature)
    except InvalidInputError:
        return
    check(decoded)


@FUZZ
@given(
    text=CSV_TEXT | CSV_TABLES,
    signature=SIGNATURES,
    charset=st.sampled_from(["", "; charset=utf-8", "; charset=utf-16", "; charset=nope"]),
)
def test_csv_decoding_never_raises_anything_but_invalid_input(
    text: str, signature: Signature | None, charset: str
) -> None:
    try:
        decoded = decode_invocations(
            text.encode("utf-8", "surrogatepass"), "text/csv" + charset, signature
        )
    except InvalidInputError:
        return
    check(decoded)

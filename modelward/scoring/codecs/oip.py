"""Open Inference Protocol v2 (KServe, MLServer, Triton) REST bodies to named columns and back.

A request carries one input per column (MLServer's ``pd`` content type, the default) or one
2-D tensor of rows (``np``), which is split into the signature's columns. Inputs of the same
datatype are converted together, so a one-row request with thirty columns costs one numpy call.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import msgspec
import numpy as np

from modelward.errors import InvalidInputError
from modelward.scoring.codecs import datatypes as dt
from modelward.scoring.codecs.types import (
    ENCODER,
    Decoded,
    ErrorResponse,
    InferenceRequest,
    InferenceResponse,
    MetadataModelResponse,
    MetadataServerResponse,
    MetadataTensor,
    RequestInput,
    ResponseOutput,
    json_values,
    oip_datatype,
)
from modelward.signatures import Signature

#: Extensions announced by ``GET /v2``: Triton's name for request/response ``parameters``.
EXTENSIONS = ("parameters",)
REQUEST_CONTENT_TYPES = ("pd", "np")
INPUT_CONTENT_TYPES = ("np", "pd", "str", "base64", "datetime")
_HIDDEN_PARAMS = frozenset({"content_type", "headers"})
_DECODER = msgspec.json.Decoder(InferenceRequest)
_METADATA_TAGS = {"string": "str", "binary": "base64", "datetime": "datetime"}


def decode_oip_infer(body: bytes, signature: Signature | None) -> Decoded:
    """Decode an inference request into columns; malformed requests raise InvalidInputError."""
    request = _parse(body)
    parameters = request.parameters or {}
    content_type = parameters.get("content_type")
    if content_type is not None and content_type not in REQUEST_CONTENT_TYPES:
        raise InvalidInputError(
            f"unknown request content_type {dt.show(content_type)}; "
            f"use {' or '.join(map(repr, REQUEST_CONTENT_TYPES))}"
        )
    columns, rows = (
        _columns(request.inputs, signature, content_type == "np") if request.inputs else ({}, 0)
    )
    params = {k: v for k, v in parameters.items() if k not in _HIDDEN_PARAMS}
    outputs = [o.name for o in request.outputs] if request.outputs else None
    return Decoded(columns, rows, params, request.id, outputs)


def _parse(body: bytes) -> InferenceRequest:
    if not body:
        raise InvalidInputError("empty request body; send a JSON inference request")
    try:
        return _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(f"malformed inference request: {exc}") from None
    except (ValueError, RecursionError) as exc:  # msgspec.DecodeError, bad UTF-8, deep nesting
        raise InvalidInputError(f"request body is not valid JSON: {exc}") from None


def _columns(
    inputs: list[RequestInput], signature: Signature | None, as_tensor: bool
) -> tuple[dict[str, np.ndarray], int]:
    """Columns in request order; plain 1-D inputs are converted a datatype at a time."""
    first = inputs[0]
    rows = first.shape[0] if first.shape else 0
    batches: dict[str, tuple[list[Any], list[RequestInput]]] = {}
    tensors: list[RequestInput] = []
    for item in inputs:
        shape = item.shape
        if len(shape) != 1 or item.parameters or as_tensor:
            tensors.append(item)
            continue
        if len(item.data) != shape[0] or shape[0] != rows:
            raise _mismatch(item, len(item.data), first)
        batch = batches.get(item.datatype)
        if batch is None:
            batch = batches[item.datatype] = ([], [])
            _check_datatype(item)
        batch[0].extend(item.data)
        batch[1].append(item)
    columns: dict[str, np.ndarray] = {}
    for datatype, (values, items) in batches.items():
        array = _convert(values, datatype, items)
        if array.dtype == dt.OIP_TO_NUMPY[datatype] or len(items) == 1:
            names = [item.name for item in items]
            _put(columns, names, list(array.reshape(len(items), rows)), datatype, signature)
            continue
        for item in items:  # a null in one input made floats (or objects) of all: one by one
            part = dt.from_typed(item.data, datatype, f"input {item.name!r}")
            _put(columns, [item.name], [part], datatype, signature)
    split: dict[int, list[str]] = {}  # id(input) -> the columns a tensor filled
    for item in tensors:
        array = _tensor(item, first)
        names = split[id(item)] = _names(item, array, signature, len(inputs) == 1, as_tensor)
        parts = list(np.ascontiguousarray(array.T)) if array.ndim == 2 else [array]
        _put(columns, names, parts, item.datatype, signature)
    if len(batches) + len(tensors) > 1:  # back to the order of the request
        order = chain.from_iterable(split.get(id(item), [item.name]) for item in inputs)
        columns = {name: columns[name] for name in order}
    return columns, rows


def _check_datatype(item: RequestInput) -> None:
    if item.datatype not in dt.OIP_TO_NUMPY:
        raise InvalidInputError(
            f"input {item.name!r}: unknown datatype {item.datatype!r}; "
            f"use one of {', '.join(dt.OIP_TO_NUMPY)}"
        )


def _convert(values: list[Any], datatype: str, items: list[RequestInput]) -> np.ndarray:
    try:
        return dt.from_typed(values, datatype, f"inputs of datatype {datatype}")
    except InvalidInputError:
        for item in items:  # again, one by one, to name the culprit
            dt.from_typed(item.data, datatype, f"input {item.name!r}")
        raise


def _tensor(item: RequestInput, first: RequestInput) -> np.ndarray:
    """A 2-D input, or one with parameters, as an array of its own shape."""
    _check_datatype(item)
    shape, data = item.shape, item.data
    size = _size(item.name, shape)
    if data and type(data[0]) is list:
        data = _flatten(item.name, data, shape)
    if len(data) != size or shape[0] != (first.shape[0] if first.shape else 0):
        raise _mismatch(item, len(data), first)
    width = shape[1] if len(shape) == 2 and shape[1] else 1
    array = dt.from_typed(data, item.datatype, f"input {item.name!r}", width).reshape(shape)
    return _apply_content_type(item, array) if item.parameters else array


def _put(
    columns: dict[str, np.ndarray],
    names: list[str],
    parts: list[np.ndarray],
    datatype: str,
    signature: Signature | None,
) -> None:
    """Add columns (one dtype) and convert those whose signature type differs."""
    if not columns.keys().isdisjoint(names):
        raise InvalidInputError(f"column {next(n for n in names if n in columns)!r} is given twice")
    columns.update(zip(names, parts, strict=True))
    if len(set(names)) != len(names):
        raise InvalidInputError(
            f"column {next(n for n in names if names.count(n) > 1)!r} is given twice"
        )
    if signature is None or not parts:
        return
    types, same = dt.spec_index(signature, parts[0].dtype)
    for name in (types.keys() & names) - same:
        columns[name] = dt.conform_typed(columns[name], datatype, types[name], f"column {name!r}")


def _size(name: str, shape: list[int]) -> int:
    if len(shape) == 1 and shape[0] >= 0:
        return shape[0]
    if len(shape) == 2 and shape[0] >= 0 and shape[1] >= 0:
        return shape[0] * shape[1]
    if any(d < 0 for d in shape):
        raise InvalidInputError(f"input {name!r}: shape {shape} has a negative dimension")
    raise InvalidInputError(
        f"input {name!r}: shape {shape} has {len(shape)} dimensions; "
        "use [rows] for a column or [rows, columns] for a table"
    )


def _mismatch(item: RequestInput, count: int, first: RequestInput) -> InvalidInputError:
    size = _size(item.name, item.shape)
    if count != size:
        return InvalidInputError(
            f"input {item.name!r}: shape {item.shape} holds {size} values, but data has {count}"
        )
    _size(first.name, first.shape)  # the first input's shape may be the one at fault
    return InvalidInputError(
        f"inputs have different row counts: {first.name!r} has {first.shape[0]}, "
        f"{item.name!r} has {item.shape[0]}"
    )


def _flatten(name: str, data: list[Any], shape: list[int]) -> list[Any]:
    """Nested data in its natural shape, flattened row-major (the shape must match exactly)."""
    try:
        nested = np.array(data, dtype=object)
    except (ValueError, TypeError, RecursionError):
        nested = None
    if nested is None or any(type(v) is list for v in nested.ravel().tolist()):
        raise InvalidInputError(f"input {name!r}: data is ragged; every row needs as many values")
    if list(nested.shape) != shape:
        raise InvalidInputError(
            f"input {name!r}: data is nested as {list(nested.shape)}, but shape is {shape}; "
            "send it in that shape or flattened"
        )
    return list(nested.ravel().tolist())


def _apply_content_type(item: RequestInput, array: np.ndarray) -> np.ndarray:
    content_type = (item.parameters or {}).get("content_type")
    if content_type is None or content_type in ("np", "pd", "str"):
        return array
    if content_type not in INPUT_CONTENT_TYPES:
        raise InvalidInputError(
            f"input {item.name!r}: unknown content_type {dt.show(content_type)}; "
            f"use one of {', '.join(INPUT_CONTENT_TYPES)}"
        )
    if item.datatype != "BYTES":
        raise InvalidInputError(
            f"input {item.name!r}: content_type {content_type!r} needs datatype BYTES, not {item.datatype}"
        )
    convert = dt.base64s if content_type == "base64" else dt.datetimes
    return convert(array.ravel().tolist(), f"input {item.name!r}").reshape(array.shape)


def _names(
    item: RequestInput,
    array: np.ndarray,
    signature: Signature | None,
    single: bool,
    as_tensor: bool,
) -> list[str]:
    """The columns an input fills: itself, the signature's columns, or ``name_0``, ``name_1``..."""
    name = item.name
    width = array.shape[1] if array.ndim == 2 else 1
    tensor = as_tensor or (item.parameters or {}).get("content_type") == "np"
    if name in dt.spec_types(signature):
        if width != 1:
            raise InvalidInputError(
                f"input {name!r} has {width} values per row, but column {name!r} takes one; "
                "send shape [rows] or [rows, 1]"
            )
        return [name]
    if signature is not None and single and (array.ndim == 2 or tensor):
        names = signature.input_names
        if width != len(names):
            raise InvalidInputError(
                f"input {name!r} has {width} values per row, but the model takes "
                f"{len(names)} columns ({', '.join(names)}); send one value per column "
                "in each row, or one input per column"
            )
        return names
    return [name] if width == 1 else [f"{name}_{i}" for i in range(width)]


# --- responses ---------------------------------------------------------------------------------
def encode_oip_infer(
    model_name: str,
    model_version: str,
    request_id: str | None,
    outputs: dict[str, np.ndarray],
    requested: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
) -> bytes:
    """The inference response: one output per column, NaN as null, datetimes as ISO strings."""
    names = list(outputs) if requested is None else requested
    unknown = [n for n in names if n not in outputs]
    if unknown:
        raise InvalidInputError(
            f"unknown output{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"the model gives {', '.join(map(repr, outputs)) or 'nothing'}"
        )
    response = InferenceResponse(
        model_name=model_name,
        model_version=model_version,
        id=request_id,
        parameters=parameters or None,
        outputs=[_output(name, outputs[name]) for name in names],
    )
    return ENCODER.encode(response)


def _output(name: str, array: np.ndarray) -> ResponseOutput:
    array = np.asarray(array)
    if array.ndim == 0:
        array = array.reshape(1)
    return ResponseOutput(
        name=name,
        shape=list(array.shape),
        datatype=oip_datatype(array),
        data=json_values(array.ravel()),
        parameters={"content_type": "datetime"} if array.dtype.kind == "M" else None,
    )


def oip_model_metadata(
    name: str, versions: list[str], platform: str, signature: Signature | None
) -> bytes:
    """The model metadata response: inputs and outputs from the signature, ``platform`` the flavor."""
    inputs = _tensors(signature.inputs) if signature else []
    outputs = _tensors(signature.outputs) if signature else []
    return ENCODER.encode(
        MetadataModelResponse(
            name=name, versions=list(versions), platform=platform, inputs=inputs, outputs=outputs
        )
    )


def _tensors(specs: Sequence[Any]) -> list[MetadataTensor]:
    return [
        MetadataTensor(
            name=spec.name,
            datatype=dt.SIGNATURE_TO_OIP[spec.type],
            shape=[-1],
            parameters={"content_type": _METADATA_TAGS[spec.type]}
            if spec.type in _METADATA_TAGS
            else None,
        )
        for spec in specs
    ]


def oip_server_metadata(version: str, extensions: Sequence[str] = EXTENSIONS) -> bytes:
    """The server metadata response of ``GET /v2``."""
    return ENCODER.encode(
        MetadataServerResponse(name="modelward", version=version, extensions=list(extensions))
    )


def error_body(message: str) -> bytes:
    """The error body both protocols answer with: ``{"error": "..."}``."""
    return ENCODER.encode(ErrorResponse(error=message))

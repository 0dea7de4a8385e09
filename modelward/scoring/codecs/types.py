"""What crosses the wire (Open Inference Protocol v2 objects), how values are written on it, and
what the codecs hand over.

The Structs follow the REST spec of KServe's "Predict Protocol - Version 2" field for field;
msgspec decodes a request body straight into them and encodes responses from them. Fields a
client leaves out are ``None`` and are left out again when encoding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from modelward.scoring.codecs.datatypes import NUMPY_TO_OIP


# --- requests ----------------------------------------------------------------------------------
class RequestInput(msgspec.Struct, omit_defaults=True):
    """One input tensor: its name, shape, element type and row-major data (flat or nested)."""

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class RequestOutput(msgspec.Struct, omit_defaults=True):
    """An output the client asks for by name."""

    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(msgspec.Struct, omit_defaults=True, kw_only=True):
    """The body of ``POST /v2/models/{name}[/versions/{v}]/infer``."""

    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[RequestInput]
    outputs: list[RequestOutput] | None = None


# --- responses ---------------------------------------------------------------------------------
class ResponseOutput(msgspec.Struct, omit_defaults=True):
    """One output tensor of a response; ``data`` is flattened in row-major order."""

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferenceResponse(msgspec.Struct, omit_defaults=True, kw_only=True):
    """The body answering an inference request."""

    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[ResponseOutput]


class MetadataTensor(msgspec.Struct, omit_defaults=True):
    """A tensor a model takes or gives; variable dimensions are ``-1``."""

    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, Any] | None = None


class MetadataModelResponse(msgspec.Struct, omit_defaults=True, kw_only=True):
    """The body of ``GET /v2/models/{name}[/versions/{v}]``."""

    name: str
    versions: list[str] | None = None
    platform: str
    inputs: list[MetadataTensor]
    outputs: list[MetadataTensor]


class MetadataServerResponse(msgspec.Struct):
    """The body of ``GET /v2``."""

    name: str
    version: str
    extensions: list[str]


class ErrorResponse(msgspec.Struct):
    """The body of every failed request, in both protocols."""

    error: str


# --- MLflow /invocations requests ---------------------------------------------------------------
class MlflowSplit(msgspec.Struct, forbid_unknown_fields=True):
    """``dataframe_split``: pandas' split orient (``index`` is accepted and ignored)."""

    data: list[list[Any]]
    columns: list[str | int] | None = None
    index: list[Any] | None = None


class MlflowRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A JSON ``/invocations`` body: one of the four layouts, and optional ``params``."""

    dataframe_split: MlflowSplit | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    instances: list[Any] | dict[str, Any] | None = None
    inputs: list[Any] | dict[str, Any] | None = None
    params: dict[str, Any] | None = None


# --- what the codecs hand to the server --------------------------------------------------------
@dataclass(frozen=True)
class Decoded:
    """A decoded scoring request: named 1-D columns of equal length, plus what came with them."""

    columns: dict[str, np.ndarray]
    rows: int
    params: dict[str, Any]
    request_id: str | None = None
    outputs: list[str] | None = None


# --- values on the wire -----------------------------------------------------------------------
def oip_datatype(array: np.ndarray) -> str:
    """The OIP datatype of an output array (object arrays are judged by what they hold)."""
    name = NUMPY_TO_OIP.get(array.dtype)
    if name is not None:
        return name
    if array.dtype.kind == "f":
        return "FP64"  # float128 and friends: written as doubles
    if array.dtype.kind == "O" and array.size:
        try:
            probe = np.asarray([v for v in array.ravel().tolist() if not _missing(v)])
        except (ValueError, TypeError, OverflowError):
            return "BYTES"
        if probe.size and probe.dtype.kind in "biuf":
            return NUMPY_TO_OIP.get(probe.dtype, "FP64")
    return "BYTES"


def _missing(value: Any) -> bool:
    return value is None or type(value).__name__ in ("NAType", "NaTType")  # pandas' markers


def json_values(array: np.ndarray) -> list[Any]:
    """The array as nested lists of JSON-ready values: NaN stays (encoded as null), times as ISO."""
    values: list[Any] = (_iso(array) if array.dtype.kind == "M" else array).tolist()
    return values


def _iso(array: np.ndarray) -> np.ndarray:
    """Date-times as ISO 8601 strings (None for NaT): whole seconds, or the array's finer unit."""
    unit = np.datetime_data(array.dtype)[0]
    finer = unit in ("ms", "us", "ns", "ps", "fs", "as") and not np.all(
        (array.astype("datetime64[s]") == array) | np.isnat(array)
    )
    text = np.datetime_as_string(array, unit=None if finer else "s").astype(object)
    text[np.isnat(array)] = None
    return text


def enc_hook(value: Any) -> Any:
    """Turn numpy scalars, pandas timestamps and missing markers into plain JSON values."""
    if isinstance(value, np.datetime64):
        return _iso(np.array([value]))[0]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime | dt.date):
        return None if value != value else value.isoformat()
    for plain in (bool, int, float, str):  # subclasses, which msgspec does not take as they are
        if isinstance(value, plain):
            return plain(value)
    if _missing(value):
        return None
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)

"""The wire protocol between modelward and a model program: one JSON object per line.

The engine writes compact, ASCII-only JSON with its keys in a fixed order, so a program in a
language without a JSON library can read requests with a few regular expressions (see
docs/process-protocol.md). What the program answers is read with a full JSON parser and
checked strictly: anything unexpected is a :class:`ProtocolError`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, ModelFailedError, ModelwardError
from modelward.signatures import NUMERIC_TYPES, ColumnSpec, Signature

PROTOCOL_VERSION = 1
#: Longest line either side may write; longer answers are treated as garbage.
MAX_LINE_BYTES = 64 * 1024 * 1024
_DESCRIBE_KEYS = {"type", "protocol", "signature", "name", "version", "params"}
_SCALARS = (str, int, float, bool, type(None))


class ProtocolError(Exception):
    """The program wrote something the protocol does not allow."""


class ModelReportedError(Exception):
    """The program answered a request with ``{"type": "error"}``: it is alive but refused."""


@dataclass(frozen=True)
class Description:
    """What a program says about itself in its ``describe`` answer."""

    signature: Signature
    name: str | None = None
    version: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def encode(message: Mapping[str, Any]) -> bytes:
    """One message as a line of compact, ASCII-only JSON."""
    return (
        json.dumps(message, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode(
            "ascii"
        )
        + b"\n"
    )


def describe_request() -> bytes:
    """The handshake the engine sends first."""
    return encode({"type": "describe"})


def shutdown_request() -> bytes:
    """The polite request to exit."""
    return encode({"type": "shutdown"})


def predict_request(
    request_id: str, columns: Mapping[str, list[Any]], params: Mapping[str, Any]
) -> bytes:
    """A predict request; ``columns`` are already JSON-safe (see :func:`to_wire`)."""
    try:
        return encode({"type": "predict", "id": request_id, "columns": columns, "params": params})
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"prediction parameters must be plain JSON values: {exc}",
            hint="pass numbers, strings, booleans, lists or mappings",
        ) from exc


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line the program wrote into a message with a ``type``."""
    if not line.endswith(b"\n"):
        raise ProtocolError(
            f"it wrote an unterminated line of {len(line)} bytes (exited mid-line, or the "
            f"line is longer than {MAX_LINE_BYTES // 2**20} MiB): {_show(line)}"
        )
    try:
        message = json.loads(line)
    except ValueError:
        raise ProtocolError(f"it wrote a line that is not JSON: {_show(line)}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(f"it wrote JSON that is not a message with a type: {_show(line)}")
    return message


def parse_describe(message: Mapping[str, Any]) -> Description:
    """Check a ``describe`` answer and read the signature, name, version and params."""
    if message.get("type") != "describe":
        raise ProtocolError(f"it answered describe with a {message.get('type')!r} message")
    unknown = sorted(set(message) - _DESCRIBE_KEYS)
    if unknown:
        raise ProtocolError(f"its describe answer has unknown keys: {', '.join(unknown)}")
    if message.get("protocol") != PROTOCOL_VERSION:
        raise ProtocolError(
            f"it speaks protocol {message.get('protocol')!r}; modelward speaks {PROTOCOL_VERSION}"
        )
    if "signature" not in message:
        raise ProtocolError("its describe answer has no signature")
    try:
        signature = Signature.from_dict(message["signature"])
    except (ModelwardError, TypeError) as exc:
        raise ProtocolError(f"its signature is not valid: {exc}") from exc
    params = message.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise ProtocolError("'params' must map parameter names to one-line descriptions")
    name, version = message.get("name"), message.get("version")
    return Description(
        signature,
        None if name is None else str(name),
        None if version is None else str(version),
        {str(k): v for k, v in params.items()},
    )


def parse_result(message: Mapping[str, Any], request_id: str, rows: int) -> dict[str, list[Any]]:
    """The output columns of a ``result``; raise on errors, wrong ids and wrong row counts."""
    kind = message.get("type")
    if kind not in ("result", "error"):
        raise ProtocolError(f"it answered a predict request with a {kind!r} message")
    if message.get("id") != request_id:
        raise ProtocolError(
            f"it answered request {message.get('id')!r} while {request_id!r} was asked"
        )
    if kind == "error":
        raise ModelReportedError(str(message.get("message") or "no message given"))
    columns = message.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise ProtocolError("its result has no 'columns' object")
    for name, values in columns.items():
        if not isinstance(values, list):
            raise ProtocolError(f"its output column {name!r} is not an array")
        if len(values) != rows:
            raise ProtocolError(
                f"its output column {name!r} has {len(values)} rows for {rows} input rows"
            )
        if not all(isinstance(v, _SCALARS) for v in values):
            raise ProtocolError(f"its output column {name!r} holds nested arrays or objects")
    return columns


# --- values -----------------------------------------------------------------------------------
def to_wire(columns: Mapping[str, np.ndarray]) -> dict[str, list[Any]]:
    """Columns as JSON-safe lists: missing values become null, numpy scalars plain Python."""
    out: dict[str, list[Any]] = {}
    for name, array in columns.items():
        kind = array.dtype.kind
        if kind in "iub":
            out[name] = array.tolist()
        elif kind == "f":
            if np.isinf(array).any():
                raise InvalidInputError(
                    f"column {name!r} holds infinite values, which JSON cannot carry",
                    hint="replace them with a finite number or a missing value",
                )
            out[name] = [None if math.isnan(v) else v for v in array.tolist()]
        elif kind == "M":
            series = pd.Series(array)
            out[name] = [None if pd.isna(v) else v.isoformat() for v in series]
        else:
            out[name] = [_plain(name, v) for v in array.tolist()]
    return out


def _plain(name: str, value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isinf(value):
            raise InvalidInputError(
                f"column {name!r} holds infinite values, which JSON cannot carry"
            )
        return None if math.isnan(value) else value
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise InvalidInputError(
        f"column {name!r} holds a {type(value).__name__}, which the process protocol cannot send",
        hint="send numbers, strings, booleans, dates or bytes",
    )


def from_wire(
    columns: Mapping[str, list[Any]], outputs: Sequence[ColumnSpec]
) -> dict[str, np.ndarray]:
    """Output lists as arrays, numeric where the values (or the declared types) are numbers."""
    declared = {c.name: c.type for c in outputs}
    return {str(name): _array(name, values, declared.get(name)) for name, values in columns.items()}


def _array(name: str, values: list[Any], declared: str | None) -> np.ndarray:
    kinds = {type(v) for v in values} - {type(None)}
    complete = len(kinds) > 0 and None not in values
    if declared in ("float", "double") or (declared in NUMERIC_TYPES and not complete):
        if kinds <= {int, float, bool}:
            return np.array(values, dtype=np.float64)  # null becomes NaN
        bad = next(v for v in values if not isinstance(v, int | float | type(None)))
        raise ModelFailedError(
            f"the program declares output {name!r} as {declared} but answered {bad!r}",
            hint="fix the program's output or its describe signature",
        )
    if complete and kinds == {bool}:
        return np.array(values, dtype=np.bool_)
    if complete and kinds == {int}:
        with contextlib.suppress(OverflowError):
            return np.array(values, dtype=np.int64)
    if kinds and kinds <= {int, float}:
        return np.array(values, dtype=np.float64)
    if declared in NUMERIC_TYPES:
        return _array(name, values, "double")  # names the offending value
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _show(line: bytes, limit: int = 120) -> str:
    text = line.decode("utf-8", errors="replace").rstrip("\n")
    return repr(text if len(text) <= limit else text[:limit] + "…")

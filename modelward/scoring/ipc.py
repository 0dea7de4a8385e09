"""Frames between the HTTP process and its model workers: a 4-byte length, then msgpack.

Numeric, boolean and datetime columns travel as raw array bytes with their dtype; object
columns (strings, bytes) as lists.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import msgspec
import numpy as np

HEADER = struct.Struct("!I")
MAX_FRAME = 1 << 30
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def pack(message: Mapping[str, Any]) -> bytes:
    """One frame: length header plus msgpack payload."""
    payload = _encoder.encode(message)
    return HEADER.pack(len(payload)) + payload


def unpack(payload: bytes) -> Any:
    """The message inside a frame's payload."""
    return _decoder.decode(payload)


def encode_columns(columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Columns as msgpack-ready values; columns of one numeric dtype travel as one buffer."""
    arrays = list(columns.values())
    if len(arrays) > 1 and all(a.ndim == 1 and a.dtype.kind in "biuf" for a in arrays):
        dtype = arrays[0].dtype
        if all(a.dtype == dtype and len(a) == len(arrays[0]) for a in arrays):
            block = np.concatenate(arrays).reshape(len(arrays), -1)  # a column per row: contiguous
            return {"@matrix": [list(columns), dtype.str, block.shape[1], block.tobytes()]}
    out: dict[str, Any] = {}
    for name, array in columns.items():
        if array.dtype.kind == "O" or array.dtype.kind == "U":
            out[name] = ["O", array.tolist()]
        else:
            contiguous = np.ascontiguousarray(array)
            out[name] = [contiguous.dtype.str, list(contiguous.shape), contiguous.tobytes()]
    return out


def decode_columns(encoded: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The inverse of :func:`encode_columns`."""
    if "@matrix" in encoded:
        names, dtype, rows, raw = encoded["@matrix"]
        block = np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(len(names), rows)
        return dict(zip(names, block, strict=True))
    out: dict[str, np.ndarray] = {}
    for name, value in encoded.items():
        if value[0] == "O":
            array = np.empty(len(value[1]), dtype=object)
            array[:] = value[1]
            out[name] = array
        else:
            dtype, shape, raw = value
            out[name] = np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape)
    return out

"""Element types: OIP datatypes, numpy dtypes and signature types, and the conversions between.

Untyped values (JSON cells, CSV fields) become columns here, typed by the signature when there
is one and inferred otherwise. Only the *kind* of a value is checked (a string where a number
belongs, a number where a boolean belongs); value problems such as nulls, non-whole numbers in
integer columns or out-of-range values are left in the arrays (NaN, None) for signature
validation to report.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import msgspec
import numpy as np

from modelward.errors import InvalidInputError
from modelward.signatures import Signature

OIP_TO_NUMPY: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    **{f"UINT{b}": np.dtype(f"uint{b}") for b in (8, 16, 32, 64)},
    **{f"INT{b}": np.dtype(f"int{b}") for b in (8, 16, 32, 64)},
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
NUMPY_TO_OIP = {dtype: name for name, dtype in OIP_TO_NUMPY.items() if name != "BYTES"}
_SIGNATURE = {  # signature type: (OIP datatype, numpy dtype of its column)
    "boolean": ("BOOL", "bool"),
    "integer": ("INT32", "int32"),
    "long": ("INT64", "int64"),
    "float": ("FP32", "float32"),
    "double": ("FP64", "float64"),
    "string": ("BYTES", "object"),
    "binary": ("BYTES", "object"),
    "datetime": ("BYTES", "datetime64[us]"),
}
SIGNATURE_TO_OIP = {kind: oip for kind, (oip, _) in _SIGNATURE.items()}
SIGNATURE_TO_NUMPY = {kind: np.dtype(dtype) for kind, (_, dtype) in _SIGNATURE.items()}
NUMERIC = frozenset({"integer", "long", "float", "double"})
_INTEGER = frozenset({"integer", "long"})
_NONE = type(None)
NUMBERS: frozenset[type] = frozenset({int, float})
NUMBERS_OR_NULL: frozenset[type] = frozenset({int, float, _NONE})
BOOLS_OR_NULL: frozenset[type] = frozenset({bool, _NONE})
STRINGS_OR_NULL: frozenset[type] = frozenset({str, _NONE})


def show(value: Any) -> str:
    """A value as JSON, shortened for an error message."""
    try:
        text = msgspec.json.encode(value).decode()
    except (TypeError, ValueError, OverflowError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def refuse(
    values: list[Any], allowed: frozenset[type], where: str, expected: str, width: int = 1
) -> None:
    """Raise for the first value whose JSON type is not ``allowed``, naming its row."""
    for i, value in enumerate(values):
        if type(value) not in allowed:
            if isinstance(value, list | dict):
                raise InvalidInputError(
                    f"{where}: row {i // width} holds a nested {'list' if isinstance(value, list) else 'object'}; "
                    "each value must be a number, string, boolean or null"
                )
            raise InvalidInputError(
                f"{where}: expected {expected}, got {show(value)} (row {i // width})"
            )


# --- untyped JSON values -> columns -----------------------------------------------------------
def from_json(values: list[Any], spec_type: str | None, where: str) -> np.ndarray:
    """A column from JSON values, converted to ``spec_type`` (or inferred when ``None``)."""
    kinds = set(map(type, values))
    if spec_type is None:
        return _infer(values, kinds, where)
    if spec_type in NUMERIC:
        if not kinds <= NUMBERS_OR_NULL:
            refuse(values, NUMBERS_OR_NULL, where, f"a number ({spec_type})")
        if kinds <= {int}:
            try:
                return numeric_to(np.array(values, dtype=np.int64), spec_type)
            except OverflowError:
                pass
        return numeric_to(floats(values, where), spec_type)
    if spec_type == "boolean":
        if not kinds <= BOOLS_OR_NULL:
            refuse(values, BOOLS_OR_NULL, where, "true or false")
        return np.array(values, dtype=object if _NONE in kinds else np.bool_)
    if not kinds <= STRINGS_OR_NULL:
        refuse(values, STRINGS_OR_NULL, where, f"a string ({spec_type})")
    return from_strings(values, spec_type, where)


def _infer(values: list[Any], kinds: set[type], where: str) -> np.ndarray:
    if list in kinds or dict in kinds:
        refuse(values, frozenset(kinds - {list, dict}), where, "a scalar")
    if not kinds:
        return np.array([], dtype=np.float64)
    if kinds == {bool}:
        return np.array(values, dtype=np.bool_)
    if kinds == {int}:
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            return floats(values, where)
    if kinds <= NUMBERS_OR_NULL and kinds != {_NONE}:
        return floats(values, where)
    return objects(values)  # strings, or a mix the model may still make sense of


def floats(values: list[Any], where: str, dtype: Any = np.float64) -> np.ndarray:
    """Numbers (and nulls, as NaN) as a float array; refuses numbers beyond the float range."""
    try:
        if dtype is np.float64:  # JSON floats fit; only huge integers overflow, and raise
            return np.array(values, dtype=np.float64)
        with np.errstate(over="ignore"):
            array = np.array(values, dtype=dtype)
        if not np.isinf(array).any():
            return array
    except OverflowError:
        pass
    raise InvalidInputError(f"{where}: a number is too large for {np.dtype(dtype)}")


def objects(values: list[Any]) -> np.ndarray:
    """An object array holding ``values`` as they are (never a 2-D array of nested lists)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def numeric_to(array: np.ndarray, spec_type: str) -> np.ndarray:
    """A numeric array cast to a numeric signature type where that loses nothing."""
    target = SIGNATURE_TO_NUMPY[spec_type]
    if array.dtype == target:
        return array
    if spec_type == "double":
        return array.astype(target)
    if spec_type == "float":
        with np.errstate(over="ignore"):  # beyond float32: inf, as numpy casts do
            return array.astype(target)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.trunc(array))):
        return array  # NaN or fractions: validation names the rows
    if array.size:
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            return array
    return array.astype(target)


def from_strings(values: list[Any], spec_type: str, where: str) -> np.ndarray:
    """Strings (or None) as a string, binary (base64) or datetime (ISO 8601) column."""
    if spec_type == "datetime":
        return datetimes(values, where)
    if spec_type == "binary":
        return base64s(values, where)
    return objects(values)


def datetimes(values: list[Any], where: str) -> np.ndarray:
    """ISO 8601 strings (or None) as ``datetime64[us]``; offsets are converted to UTC."""
    parsed: list[dt.datetime | None] = []
    for row, value in enumerate(values):
        if value is None:
            parsed.append(None)
            continue
        try:
            stamp = dt.datetime.fromisoformat(value)
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInputError(
                f"{where}: expected an ISO 8601 date-time, got {show(value)} (row {row})"
            ) from None
        parsed.append(stamp)
    return np.array(parsed, dtype="datetime64[us]")


def base64s(values: list[Any], where: str) -> np.ndarray:
    """Base64 strings (or None) as bytes objects."""
    decoded: list[bytes | None] = []
    for row, value in enumerate(values):
        try:
            decoded.append(None if value is None else base64.b64decode(value, validate=True))
        except (TypeError, ValueError, binascii.Error):
            raise InvalidInputError(
                f"{where}: expected base64-encoded bytes, got {show(value)} (row {row})"
            ) from None
    return objects(decoded)


# --- typed OIP data -> columns -----------------------------------------------------------------
def from_typed(values: list[Any], datatype: str, where: str, width: int = 1) -> np.ndarray:
    """Flat OIP tensor data as an array of its datatype; nulls become NaN (numbers) or None."""
    kinds = set(map(type, values))
    if datatype == "FP64" and kinds <= NUMBERS_OR_NULL:  # the usual case, first
        return floats(values, where)
    if datatype == "BYTES":
        if not kinds <= STRINGS_OR_NULL:
            refuse(values, STRINGS_OR_NULL, where, "a string (BYTES)", width)
        return objects(values)
    if datatype == "BOOL":
        if not kinds <= BOOLS_OR_NULL:
            refuse(values, BOOLS_OR_NULL, where, "true or false (BOOL)", width)
        return np.array(values, dtype=object if _NONE in kinds else np.bool_)
    if not kinds <= NUMBERS_OR_NULL:
        refuse(values, NUMBERS_OR_NULL, where, f"a number ({datatype})", width)
    dtype = OIP_TO_NUMPY[datatype]
    if dtype.kind == "f":
        return floats(values, where, dtype)
    info = np.iinfo(dtype)
    if kinds <= {int}:
        try:
            return np.array(values, dtype=dtype)
        except OverflowError:
            row = next(i for i, v in enumerate(values) if not info.min <= v <= info.max)
            raise InvalidInputError(
                f"{where}: {show(values[row])} is out of range for {datatype} (row {row // width})"
            ) from None
    numbers = floats(values, where)
    bad = ~(np.isnan(numbers) | (numbers == np.trunc(numbers)))
    bad |= (numbers < info.min) | (numbers > info.max)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"{where}: expected a whole number in the range of {datatype}, "
            f"got {show(values[row])} (row {row // width})"
        )
    return numbers if _NONE in kinds else numbers.astype(dtype)


def conform_typed(array: np.ndarray, datatype: str, spec_type: str, where: str) -> np.ndarray:
    """A typed column converted to its signature type; refuses kinds that cannot become it."""
    kind = array.dtype.kind
    if spec_type in NUMERIC:
        if kind in "iuf":
            return numeric_to(array, spec_type)
    elif spec_type == "boolean":
        if kind == "b" or datatype == "BOOL":
            return array
    elif spec_type == "datetime":
        if kind == "M":
            return array
        if datatype == "BYTES":
            return datetimes(array.tolist(), where)
    elif datatype == "BYTES":
        if spec_type == "binary" and str in set(map(type, array.tolist())):
            return base64s(array.tolist(), where)
        return array
    raise InvalidInputError(
        f"{where} is {spec_type} in the model signature, but the request sends {datatype}; "
        f"send {SIGNATURE_TO_OIP[spec_type]}"
    )


class _Index:
    """What the hot path asks of a signature, computed once per signature object."""

    def __init__(self, signature: Signature) -> None:
        self.signature = signature  # the reference keeps its id from being reused
        self.types = {spec.name: spec.type for spec in signature.inputs}
        self.numeric = frozenset(name for name, kind in self.types.items() if kind in NUMERIC)
        self.by_dtype: dict[np.dtype[Any], frozenset[str]] = {}


_INDEX: dict[int, _Index] = {}


def _index(signature: Signature) -> _Index:
    index = _INDEX.get(id(signature))
    if index is None or index.signature is not signature:
        if len(_INDEX) >= 256:
            _INDEX.clear()
        index = _INDEX[id(signature)] = _Index(signature)
    return index


def spec_types(signature: Signature | None) -> dict[str, str]:
    """Input column name -> signature type (remembered per signature object)."""
    return {} if signature is None else _index(signature).types


def all_numeric(signature: Signature, names: list[str]) -> bool:
    """True when every one of ``names`` is a numeric input column of the signature."""
    return _index(signature).numeric.issuperset(names)


def spec_index(signature: Signature, dtype: np.dtype[Any]) -> tuple[dict[str, str], frozenset[str]]:
    """The input types, and the input columns whose signature type already has ``dtype``."""
    index = _index(signature)
    same = index.by_dtype.get(dtype)
    if same is None:
        same = index.by_dtype[dtype] = frozenset(  # binary columns still need base64 decoding
            name
            for name, kind in index.types.items()
            if SIGNATURE_TO_NUMPY[kind] == dtype and kind != "binary"
        )
    return index.types, same


def table_columns(
    names: list[str], table: np.ndarray, signature: Signature | None
) -> dict[str, np.ndarray]:
    """The columns of a 2-D numeric table, each cast to its signature type."""
    if signature is not None and names and spec_types(signature).get(names[0]) in NUMERIC:
        table = numeric_to(table, spec_types(signature)[names[0]])  # usually all of them at once
    columns = dict(zip(names, np.ascontiguousarray(table.T), strict=True))
    if signature is not None:
        types, same = spec_index(signature, table.dtype)
        for name in (types.keys() & columns.keys()) - same:
            columns[name] = numeric_to(columns[name], types[name])
    return columns

"""MLflow scoring-server bodies (``POST /invocations``) to named columns and back.

JSON comes in MLflow's four layouts (``dataframe_split``, ``dataframe_records``, ``instances``,
``inputs``) with optional ``params``; CSV has a header row. Untyped values are converted to the
signature's types, or inferred per column when there is no signature.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from contextlib import suppress
from itertools import chain
from operator import itemgetter
from typing import Any

import msgspec
import numpy as np

from modelward.errors import InvalidInputError, ModelwardError, UnsupportedContentTypeError
from modelward.scoring.codecs import datatypes as dt
from modelward.scoring.codecs.types import ENCODER, Decoded, MlflowRequest, json_values
from modelward.signatures import Signature

JSON_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CONTENT_TYPES = ("application/json", "text/csv")
_WORDS = ("true", "false", "1", "0")  # true, false, true, false
_ACCEPTED = f"exactly one of {', '.join(JSON_FORMATS)}, and optionally params"

_DECODER = msgspec.json.Decoder(MlflowRequest)

Columns = dict[str, np.ndarray]


def decode_invocations(body: bytes, content_type: str, signature: Signature | None) -> Decoded:
    """Decode an ``/invocations`` body (JSON or CSV) into columns."""
    media, charset = _media_type(content_type)
    if media == "application/json":
        if charset not in ("utf-8", "utf8"):
            body = _text(body, charset).encode()
        return _decode_json(body.removeprefix(codecs.BOM_UTF8), signature)
    if media == "text/csv":
        return _decode_csv(_text(body, charset), signature)
    raise UnsupportedContentTypeError(
        f"unsupported content type {content_type!r}; /invocations reads {' or '.join(CONTENT_TYPES)}"
    )


def _media_type(content_type: str) -> tuple[str, str]:
    media, _, rest = (content_type or "").partition(";")
    charset = "utf-8"
    for part in rest.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower() or charset
    return media.strip().lower(), charset


def _text(body: bytes, charset: str) -> str:
    try:
        return body.decode("utf-8-sig" if charset in ("utf-8", "utf8") else charset)
    except LookupError:
        raise UnsupportedContentTypeError(f"unsupported charset {charset!r}; use utf-8") from None
    except ValueError as exc:  # UnicodeDecodeError and friends
        raise InvalidInputError(f"request body is not valid {charset} text: {exc}") from None


# --- JSON --------------------------------------------------------------------------------------
def _decode_json(body: bytes, signature: Signature | None) -> Decoded:
    if not body.strip():
        raise InvalidInputError(f"empty request body; send a JSON object with {_ACCEPTED}")
    try:
        request = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(f"malformed request: {exc}; the body takes {_ACCEPTED}") from None
    except (ValueError, RecursionError) as exc:  # msgspec.DecodeError, bad UTF-8, deep nesting
        raise InvalidInputError(f"request body is not valid JSON: {exc}") from None
    given = [key for key in JSON_FORMATS if getattr(request, key) is not None]
    if len(given) != 1:
        raise InvalidInputError(f"the body takes {_ACCEPTED}; got {', '.join(given) or 'none'}")
    if request.dataframe_split is not None:
        split = request.dataframe_split
        names = _default_names(split.data, signature) if split.columns is None else split.columns
        columns, rows = _from_rows([str(n) for n in names], split.data, signature)
    elif request.dataframe_records is not None:
        columns, rows = _from_records(request.dataframe_records, signature)
    else:
        payload = request.instances if request.instances is not None else request.inputs
        if isinstance(payload, dict):
            columns, rows = _from_dict(payload, signature)
        else:
            columns, rows = _from_list(payload or [], signature)
    return Decoded(columns, rows, dict(request.params or {}))


def _default_names(rows: Sequence[Sequence[Any]], signature: Signature | None) -> list[str]:
    """Names for values given in order: the signature's columns, else ``input-0``, ``input-1``..."""
    if signature is not None:
        return signature.input_names
    return [f"input-{i}" for i in range(len(rows[0]) if rows else 0)]


def _from_rows(
    names: list[str], rows: Sequence[Sequence[Any]], signature: Signature | None
) -> tuple[Columns, int]:
    _unique(names)
    width = len(names)
    if rows and set(map(len, rows)) != {width}:
        row = next(i for i, r in enumerate(rows) if len(r) != width)
        raise InvalidInputError(
            f"row {row} has {len(rows[row])} values, expected {width} ({', '.join(names)})"
        )
    table = _numbers_table(names, rows, signature) if rows else None
    if table is not None:
        return dt.table_columns(names, table, signature), len(rows)
    specs = dt.spec_types(signature)
    values = zip(*rows, strict=True) if rows else [()] * width
    columns = {
        name: dt.from_json(list(column), specs.get(name), f"column {name!r}")
        for name, column in zip(names, values, strict=True)
    }
    return columns, len(rows)


def _numbers_table(
    names: list[str], rows: Sequence[Sequence[Any]], signature: Signature | None
) -> np.ndarray | None:
    """All cells numbers and all columns numeric: one numpy call for the table (the hot path)."""
    kinds = set(map(type, chain.from_iterable(rows)))
    if not kinds or not kinds <= dt.NUMBERS:
        return None
    if signature is None and len(kinds) > 1:
        return None  # without a signature, int and float columns keep their own types
    if signature is not None and not dt.all_numeric(signature, names):
        return None
    try:
        return np.array(rows, dtype=np.float64 if float in kinds else np.int64)
    except (OverflowError, ValueError):
        return None


def _from_records(
    records: list[dict[str, Any]], signature: Signature | None
) -> tuple[Columns, int]:
    if not records:
        return {}, 0
    names = list(dict.fromkeys(chain.from_iterable(records)))
    rows: list[Sequence[Any]] | None = None
    if len(names) > 1:  # every record complete: one C call per record
        getter = itemgetter(*names)
        with suppress(KeyError):
            rows = [getter(record) for record in records]
    if rows is None:  # records that leave columns out have nulls there
        rows = [[record.get(name) for name in names] for record in records]
    return _from_rows(names, rows, signature)


def _from_dict(mapping: dict[str, Any], signature: Signature | None) -> tuple[Columns, int]:
    if not mapping:
        return {}, 0
    specs = dt.spec_types(signature)
    is_list = [isinstance(v, list) for v in mapping.values()]
    if not any(is_list):  # one value per column: a single row
        return {n: dt.from_json([v], specs.get(n), f"column {n!r}") for n, v in mapping.items()}, 1
    if not all(is_list):
        raise InvalidInputError(
            "the columns mix lists and single values; give every column a list of values"
        )
    lengths = {name: len(values) for name, values in mapping.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{n!r} has {k}" for n, k in lengths.items())
        raise InvalidInputError(f"columns have different lengths: {shown}")
    columns = {n: dt.from_json(v, specs.get(n), f"column {n!r}") for n, v in mapping.items()}
    return columns, next(iter(lengths.values()), 0)


def _from_list(items: list[Any], signature: Signature | None) -> tuple[Columns, int]:
    kinds = set(map(type, items))
    if not items:
        return {}, 0
    if kinds == {dict}:
        return _from_records(items, signature)
    if kinds == {list}:
        return _from_rows(_default_names(items, signature), items, signature)
    if dict in kinds or list in kinds:
        raise InvalidInputError(
            "the list mixes records, rows and single values; send one kind: "
            "records (objects), rows (lists of values in column order) or values of one column"
        )
    names = signature.input_names if signature is not None else ["input-0"]
    if len(names) != 1:
        raise InvalidInputError(
            f"a flat list of values fits a model with one input column, but this one takes "
            f"{len(names)} ({', '.join(names)}); send records or rows"
        )
    spec_type = dt.spec_types(signature).get(names[0])
    return {names[0]: dt.from_json(items, spec_type, f"column {names[0]!r}")}, len(items)


def _unique(names: list[str]) -> None:
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(f"duplicate column names: {', '.join(map(repr, dupes))}")


# --- CSV ---------------------------------------------------------------------------------------
def _decode_csv(text: str, signature: Signature | None) -> Decoded:
    try:
        lines = [line for line in csv.reader(io.StringIO(text), strict=True) if line]
    except csv.Error as exc:
        raise InvalidInputError(f"malformed CSV: {exc}") from None
    if not lines:
        raise InvalidInputError("empty CSV body; the first line must name the columns")
    header, records = lines[0], lines[1:]
    if "" in header:
        raise InvalidInputError(f"CSV column {header.index('') + 1} has no name in the header")
    _unique(header)
    width = len(header)
    for number, record in enumerate(records, start=2):
        if len(record) != width:
            raise InvalidInputError(
                f"CSV line {number} has {len(record)} fields, but the header names {width}"
            )
    fast = _text_table(header, records, signature) if records else None
    if fast is not None:
        return Decoded(fast, len(records), {})
    specs = dt.spec_types(signature)
    values = zip(*records, strict=True) if records else [()] * width
    columns = {
        name: _from_text(list(column), specs.get(name), f"column {name!r}")
        for name, column in zip(header, values, strict=True)
    }
    return Decoded(columns, len(records), {})


def _text_table(
    header: list[str], records: list[list[str]], signature: Signature | None
) -> Columns | None:
    """Numeric columns parsed as one table (the hot path); None when a column is not numbers."""
    if signature is not None and not dt.all_numeric(signature, header):
        return None
    text = np.array(records, dtype=str)
    null = text == ""
    numbers = _text_numbers(text, null)
    if numbers is None:
        return None
    columns = dt.table_columns(header, numbers, signature)
    if signature is None and numbers.dtype.kind == "f":  # integer columns stay integers
        whole = ~null.any(axis=0) & (numbers == np.trunc(numbers)).all(axis=0)
        for j in np.flatnonzero(whole).tolist():
            with suppress(ValueError, OverflowError):
                columns[header[j]] = text[:, j].astype(np.int64)
    return columns


def _from_text(values: list[str], spec_type: str | None, where: str) -> np.ndarray:
    """A column from CSV fields (an empty field is null), converted or inferred like JSON."""
    text = np.array(values, dtype=str)
    null = text == ""
    if spec_type is None or spec_type in dt.NUMERIC:
        numbers = _text_numbers(text, null)
        if numbers is not None:
            return numbers if spec_type is None else dt.numeric_to(numbers, spec_type)
        if spec_type is not None:
            _refuse_text(values, where, f"a finite number ({spec_type})", _is_number)
    if spec_type is None or spec_type == "boolean":
        flags = _text_booleans(text, null, _WORDS if spec_type else _WORDS[:2])
        if flags is not None:
            return flags
        if spec_type is not None:
            _refuse_text(values, where, "true or false", lambda v: v.lower() in _WORDS)
    strings = [None if v == "" else v for v in values]
    return dt.objects(strings) if spec_type is None else dt.from_strings(strings, spec_type, where)


def _text_numbers(text: np.ndarray, null: np.ndarray) -> np.ndarray | None:
    if not null.any():
        try:
            return text.astype(np.int64)
        except (ValueError, OverflowError):
            pass
    try:
        with np.errstate(over="ignore"):
            numbers = np.where(null, "nan", text).astype(np.float64)
    except ValueError:
        return None
    return None if np.isinf(numbers).any() else numbers


def _is_number(field: str) -> bool:
    try:
        return bool(np.isfinite(np.float64(field)))
    except ValueError:
        return False


def _text_booleans(text: np.ndarray, null: np.ndarray, words: tuple[str, ...]) -> np.ndarray | None:
    lower = np.strings.lower(text)
    true = np.isin(lower, words[0::2])
    if not (true | np.isin(lower, words[1::2]) | null).all():
        return None
    if null.any():
        return dt.objects(
            [None if n else t for t, n in zip(true.tolist(), null.tolist(), strict=True)]
        )
    return true


def _refuse_text(values: list[str], where: str, expected: str, ok: Callable[[str], bool]) -> None:
    row = next((i for i, v in enumerate(values) if v and not ok(v)), None)
    got = f", got {dt.show(values[row])} (row {row})" if row is not None else ""
    raise InvalidInputError(f"{where}: expected {expected}{got}")


# --- responses ---------------------------------------------------------------------------------
def encode_invocations(outputs: dict[str, np.ndarray]) -> bytes:
    """``{"predictions": ...}``: a flat list for one output, else one record per row."""
    lists = [json_values(np.atleast_1d(array)) for array in outputs.values()]
    if len(lists) == 1:
        return ENCODER.encode({"predictions": lists[0]})
    if len({len(values) for values in lists}) > 1:
        lengths = {name: len(values) for name, values in zip(outputs, lists, strict=True)}
        raise ModelwardError(f"the model's outputs have different lengths: {lengths}")
    names = list(outputs)
    records = [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
    return ENCODER.encode({"predictions": records})

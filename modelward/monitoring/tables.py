"""Inference records as Arrow tables: one row per scored row, inputs and outputs as columns."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from modelward.monitoring.records import InferenceRecord, check_record

INPUT_PREFIX = "input__"
OUTPUT_PREFIX = "output__"
TIME_TYPE = pa.timestamp("us", tz="UTC")
META_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("row", pa.int64()),
        ("time", TIME_TYPE),
        ("model", pa.string()),
        ("version", pa.int64()),
        ("status", pa.int32()),
        ("latency_ms", pa.float64()),
        ("protocol", pa.string()),
        ("error", pa.string()),
    ]
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NUMERIC = (pa.types.is_integer, pa.types.is_floating)


def records_table(records: Sequence[InferenceRecord]) -> pa.Table:
    """One Arrow table for ``records`` (any models, any columns); a request with no rows
    (an error before scoring) still gives one row."""
    by_shape: dict[tuple[object, ...], list[tuple[InferenceRecord, int]]] = {}
    for record in records:
        rows = check_record(record)
        by_shape.setdefault(_shape(record, rows), []).append((record, rows))
    return concat_tables([_same_shape_table(group) for group in by_shape.values()])


def concat_tables(tables: Sequence[pa.Table]) -> pa.Table:
    """Stack tables with different columns: missing columns become nulls, and a column whose
    type differs between tables becomes float64 (all numeric) or string (anything else)."""
    if len(tables) == 1:
        return tables[0]
    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for column in table.schema:
            types.setdefault(column.name, set()).add(column.type)
    targets = {
        name: (pa.float64() if all(_is_numeric(t) for t in found) else pa.string())
        for name, found in types.items()
        if len(found) > 1
    }
    unified = [_cast(table, targets) for table in tables]
    stacked = pa.concat_tables(unified, promote_options="default")
    return stacked.select(list(types))


def _shape(record: InferenceRecord, rows: int) -> tuple[object, ...]:
    """Records of one shape stack column by column with numpy."""
    if rows == 0:
        return ()
    inputs = tuple((name, a.dtype.str) for name, a in record.inputs.items())
    outputs = tuple((name, a.dtype.str) for name, a in record.outputs.items())
    return (inputs, outputs)


def _same_shape_table(group: list[tuple[InferenceRecord, int]]) -> pa.Table:
    records = [record for record, _ in group]
    first = records[0]
    has_rows = group[0][1] > 0
    counts = np.array([max(rows, 1) for _, rows in group], dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    micros = np.array([(r.time - _EPOCH) // _MICROSECOND for r in records], dtype=np.int64)

    def repeat(values: list[Any], type_: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(np.array(values, dtype=object), counts), type=type_)

    columns: dict[str, pa.Array] = {
        "request_id": repeat([r.request_id for r in records], pa.string()),
        "row": pa.array(np.arange(int(counts.sum()), dtype=np.int64) - starts),
        "time": pa.array(np.repeat(micros, counts), type=TIME_TYPE),
        "model": repeat([r.model for r in records], pa.string()),
        "version": repeat([int(r.version) for r in records], pa.int64()),
        "status": repeat([int(r.status) for r in records], pa.int32()),
        "latency_ms": repeat([float(r.latency_ms) for r in records], pa.float64()),
        "protocol": repeat([r.protocol for r in records], pa.string()),
        "error": repeat([r.error for r in records], pa.string()),
    }
    if has_rows:
        for name in first.inputs:
            columns[INPUT_PREFIX + name] = to_arrow(
                np.concatenate([r.inputs[name] for r in records])
            )
        for name in first.outputs:
            columns[OUTPUT_PREFIX + name] = to_arrow(
                np.concatenate([r.outputs[name] for r in records])
            )
    return pa.table(columns)


def to_arrow(array: np.ndarray) -> pa.Array:
    """A numpy column as Arrow: numbers, booleans and times keep their type, text becomes
    string, anything else (object, mixed, complex, structured) becomes its ``str``."""
    kind = array.dtype.kind
    try:
        if kind == "f" and array.dtype.itemsize < 4:
            return pa.array(array.astype(np.float32))
        if kind in "biuf":
            return pa.array(array)
        if kind in "Mm":
            return pa.array(array, from_pandas=True)  # NaT becomes null
        if kind in "US":
            return pa.array(array)
        if kind == "O":
            return pa.array(array, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        pass
    return pa.array([_text(value) for value in array.tolist()], type=pa.string())


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else str(value)


def _is_numeric(type_: pa.DataType) -> bool:
    return any(check(type_) for check in _NUMERIC)


def _cast(table: pa.Table, targets: dict[str, pa.DataType]) -> pa.Table:
    for name, target in targets.items():
        index = table.schema.get_field_index(name)
        if index < 0 or table.schema.field(index).type == target:
            continue
        column = table.column(index)
        try:
            converted = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            converted = pa.array([_text(v) for v in column.to_pylist()], type=target)
        table = table.set_column(index, name, converted)
    return table

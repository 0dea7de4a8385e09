"""Column profiles: mergeable summaries of a dataset, built in one streaming pass.

A :class:`DatasetProfile` holds one :class:`ColumnProfile` per column. Numeric columns keep
moments, a quantile sketch, an exact table of values while there are few, and — when profiled
against a reference — counts over the reference's quantile bins. Categorical columns keep a
top-K frequency table and, against a reference, a count of categories it never saw. Profiles
merge (windows, replicas) and serialize to JSON-ready dicts for the metadata store.

PII columns keep no raw value: categories are replaced by a sha256 prefix (keyed with
``pii_key`` when given), numeric columns keep moments and bin counts only (no min/max, no
sketch). See docs/drift.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelward.errors import InvalidInputError
from modelward.monitoring.sketch import (
    FEW_VALUES,
    Bins,
    Frequencies,
    Kind,
    Moments,
    QuantileSketch,
    as_floats,
    distinct_counts,
    hashed,
    kind_of,
    value_counts,
)

FORMAT_VERSION = 1
#: Quantile bins a reference column gets (fewer when its quantiles repeat).
REFERENCE_BINS = 20
BATCH_ROWS = 65_536


@dataclass
class ColumnProfile:
    """One column's summary; ``valid + missing + invalid`` is the rows it was profiled over."""

    kind: Kind
    valid: int = 0
    missing: int = 0
    invalid: int = 0  # type violations: values that are not numbers in a numeric column
    pii: bool = False
    minimum: float | None = None
    maximum: float | None = None
    moments: Moments = field(default_factory=Moments)
    sketch: QuantileSketch | None = None
    bins: Bins | None = None
    values: dict[float, int] | None = field(default_factory=dict)  # None once past FEW_VALUES
    table: Frequencies | None = None
    unseen: int | None = None  # rows whose category the reference table does not have

    @property
    def rows(self) -> int:
        return self.valid + self.missing + self.invalid

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """Both parts in one profile (commutative; see the module docstring for associativity)."""
        a, b = _same_kind(self, other)
        out = ColumnProfile(a.kind, a.valid + b.valid, a.missing + b.missing)
        out.invalid, out.pii = a.invalid + b.invalid, a.pii or b.pii
        out.minimum = _pick(min, a.minimum, b.minimum)
        out.maximum = _pick(max, a.maximum, b.maximum)
        out.moments = a.moments.merge(b.moments)
        out.sketch = _both(a.sketch, b.sketch, QuantileSketch.merge)
        out.bins = _merge_bins(a, b)
        out.values = _merge_values(a.values, b.values)
        out.table = _both(a.table, b.table, Frequencies.merge)
        out.unseen = (
            None if a.unseen is None and b.unseen is None else (a.unseen or 0) + (b.unseen or 0)
        )
        return out

    def reference_edges(self) -> np.ndarray | None:
        """The bin edges a current window is counted over: this column's quantiles, fixed."""
        if self.bins is not None:
            return self.bins.edges
        if self.sketch is None or not self.sketch.count:
            return None
        return np.unique(self.sketch.quantiles(np.linspace(0, 1, REFERENCE_BINS + 1)))

    def bin_counts(self, edges: np.ndarray) -> np.ndarray | None:
        """Counts over ``edges``: exact from own bins, else estimated from the sketch."""
        if self.bins is not None and np.array_equal(self.bins.edges, edges):
            return self.bins.counts.astype(np.float64)
        return self.sketch.weighted_counts(edges) if self.sketch is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "valid": self.valid, "missing": self.missing}
        out |= {"invalid": self.invalid, "pii": self.pii}
        if self.kind == "numeric":
            out |= {"minimum": self.minimum, "maximum": self.maximum, "moments": vars(self.moments)}
            out["sketch"] = self.sketch.to_dict() if self.sketch else None
            out["bins"] = self.bins.to_dict() if self.bins else None
            out["values"] = (
                None if self.values is None else [[v, n] for v, n in sorted(self.values.items())]
            )
        else:
            out |= {"table": self.table.to_dict() if self.table else None, "unseen": self.unseen}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        col = cls(data["kind"], int(data["valid"]), int(data["missing"]), int(data["invalid"]))
        col.pii = bool(data["pii"])
        if col.kind == "numeric":
            col.minimum, col.maximum = data["minimum"], data["maximum"]
            col.moments = Moments(**data["moments"])
            col.sketch = QuantileSketch.from_dict(data["sketch"]) if data["sketch"] else None
            col.bins = Bins.from_dict(data["bins"]) if data["bins"] else None
            col.values = (
                None if data["values"] is None else {float(v): int(n) for v, n in data["values"]}
            )
        else:
            col.table = Frequencies.from_dict(data["table"]) if data["table"] else None
            col.unseen = data["unseen"]
        return col


@dataclass
class DatasetProfile:
    """Profiles of every column of a dataset (or of one time window of it)."""

    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    rows: int = 0

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """Both datasets in one profile; a column one side lacks counts as missing there."""
        merged: dict[str, ColumnProfile] = {}
        for name in sorted(set(self.columns) | set(other.columns)):
            parts = [_column_or_gap(p, name, q) for p, q in ((self, other), (other, self))]
            merged[name] = parts[0].merge(parts[1])
        return DatasetProfile(merged, self.rows + other.rows)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict carrying ``format_version``."""
        columns = {name: col.to_dict() for name, col in self.columns.items()}
        return {"format_version": FORMAT_VERSION, "rows": self.rows, "columns": columns}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        version = data.get("format_version") if isinstance(data, Mapping) else None
        if version != FORMAT_VERSION:
            raise InvalidInputError(
                f"profile format version {version!r} is not supported (this modelward reads {FORMAT_VERSION})",
                hint="profile the data again with this version of modelward",
            )
        columns = {str(k): ColumnProfile.from_dict(v) for k, v in data["columns"].items()}
        return cls(columns, int(data["rows"]))


def profile_batches(
    batches: Iterable[pa.RecordBatch],
    reference: DatasetProfile | None = None,
    *,
    pii: Iterable[str] = (),
    top_k: int = 100,
    pii_key: bytes | None = None,
) -> DatasetProfile:
    """Profile a stream of record batches in one pass; memory does not grow with the rows.

    With a ``reference``, each column takes the reference's kind, is counted over its bins and
    counts the categories it lacks, so the result can be compared with (and merged into other
    windows profiled against) that reference.
    """
    builder = _Builder(reference, frozenset(pii), top_k, pii_key)
    for batch in batches:
        builder.add(batch)
    return builder.finish()


def profile_table(
    data: pa.Table | pd.DataFrame, reference: DatasetProfile | None = None, **options: Any
) -> DatasetProfile:
    """:func:`profile_batches` over an Arrow table or a pandas frame, in batches."""
    table = (
        pa.Table.from_pandas(data, preserve_index=False) if isinstance(data, pd.DataFrame) else data
    )
    batches = table.to_batches(max_chunksize=BATCH_ROWS) or [_empty_batch(table.schema)]
    return profile_batches(batches, reference, **options)


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    """A batch of no rows, so that an empty input still names its columns."""
    return pa.RecordBatch.from_pylist([], schema=schema)


class _Builder:
    def __init__(
        self, reference: DatasetProfile | None, pii: frozenset[str], top_k: int, key: bytes | None
    ) -> None:
        self.reference, self.pii, self.top_k, self.key = reference, pii, top_k, key
        self.columns: dict[str, ColumnProfile] = {}
        self.edges: dict[str, np.ndarray | None] = {}
        self.known: dict[str, frozenset[str] | None] = {}
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            col = self.columns.get(name) or self._start(name, array.type)
            if self._retype(name, col, array.type):  # nulls so far, now the first real type
                col = self._start(name, array.type, missing=col.missing)
            if col.kind == "numeric":
                self._numeric(name, col, array)
            else:
                self._categorical(name, col, array)
        self.rows += batch.num_rows
        for col in self.columns.values():  # a column this batch lacked: its rows are missing
            col.missing += self.rows - col.rows

    def _retype(self, name: str, col: ColumnProfile, type_: pa.DataType) -> bool:
        fixed = self.reference is not None and name in self.reference.columns
        empty = col.valid == 0 and col.invalid == 0
        return not fixed and empty and kind_of(type_) not in (None, col.kind)

    def _start(self, name: str, type_: pa.DataType, missing: int | None = None) -> ColumnProfile:
        ref = self.reference.columns.get(name) if self.reference else None
        kind: Kind = ref.kind if ref is not None else (kind_of(type_) or "categorical")
        gone = self.rows if missing is None else missing  # rows before the column appeared
        col = ColumnProfile(kind, missing=gone, pii=name in self.pii)
        if kind == "numeric":
            self.edges[name] = ref.reference_edges() if ref is not None else None
            col.sketch = None if col.pii else QuantileSketch()
            col.bins = Bins.empty(e) if (e := self.edges[name]) is not None else None
            col.values = None if col.pii else {}
        else:
            col.table = Frequencies(self.top_k)
            ref_table = ref.table if ref is not None else None
            self.known[name] = frozenset(ref_table.counts) if ref_table is not None else None
            col.unseen = 0 if ref_table is not None else None
        self.columns[name] = col
        return col

    def _numeric(self, name: str, col: ColumnProfile, array: pa.Array) -> None:
        numbers, missing, invalid = as_floats(array)
        col.missing += missing
        col.invalid += invalid
        if not len(numbers):
            return
        numbers.sort()
        col.valid += len(numbers)
        col.moments = col.moments.merge(Moments.of(numbers))
        if not col.pii:
            col.minimum = _pick(min, col.minimum, float(numbers[0]))
            col.maximum = _pick(max, col.maximum, float(numbers[-1]))
        if col.sketch is not None:
            col.sketch.update_sorted(numbers)
        if col.bins is not None:
            col.bins.update_sorted(numbers)
        if col.values is not None:
            few = np.count_nonzero(numbers[1:] != numbers[:-1]) < FEW_VALUES
            col.values = _merge_values(col.values, distinct_counts(numbers) if few else None)

    def _categorical(self, name: str, col: ColumnProfile, array: pa.Array) -> None:
        col.missing += array.null_count
        counts = value_counts(array)
        if col.pii:
            counts = hashed(counts, self.key)
        col.valid += len(array) - array.null_count
        assert col.table is not None
        col.table.add(counts)
        known = self.known.get(name)
        if known is not None and col.unseen is not None:
            col.unseen += sum(n for key, n in counts.items() if key not in known)

    def finish(self) -> DatasetProfile:
        return DatasetProfile(dict(sorted(self.columns.items())), self.rows)


def _same_kind(a: ColumnProfile, b: ColumnProfile) -> tuple[ColumnProfile, ColumnProfile]:
    """Both parts as one kind: a part with no values (all missing) takes the other's kind."""
    if a.kind == b.kind:
        return a, b
    for empty, full in ((a, b), (b, a)):
        if empty.valid == 0 and empty.invalid == 0:
            return full, ColumnProfile(full.kind, missing=empty.missing, pii=empty.pii)
    raise InvalidInputError(
        f"a column is {a.kind} in one profile and {b.kind} in the other",
        hint="profile both parts against the same reference so that each column keeps one kind",
    )


def _column_or_gap(profile: DatasetProfile, name: str, other: DatasetProfile) -> ColumnProfile:
    if name in profile.columns:
        return profile.columns[name]
    return ColumnProfile(other.columns[name].kind, missing=profile.rows)


def _merge_bins(a: ColumnProfile, b: ColumnProfile) -> Bins | None:
    if a.bins is None or b.bins is None:
        return a.bins if b.valid == 0 else (b.bins if a.valid == 0 else None)
    if not np.array_equal(a.bins.edges, b.bins.edges):
        raise InvalidInputError(
            "profiles counted over different bins cannot be merged",
            hint="profile every window against the same reference profile",
        )
    return a.bins.merge(b.bins)


def _merge_values(
    a: dict[float, int] | None, b: dict[float, int] | None
) -> dict[float, int] | None:
    if a is None or b is None:
        return None
    out = dict(a)
    for value, n in b.items():
        out[value] = out.get(value, 0) + n
    return out if len(out) <= FEW_VALUES else None


def _pick(how: Any, a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else float(how(a, b))


def _both(a: Any, b: Any, merge: Any) -> Any:
    return b if a is None else a if b is None else merge(a, b)

"""Mergeable summaries of one column: moments, a quantile sketch, fixed bins, a frequency table.

Each summary has ``merge`` (commutative; associative exactly for counts, within float rounding
for moments and within the recorded rank error for the sketch) and a JSON-ready ``to_dict``.
Numeric updates take a *sorted* float array: a profile sorts each batch once and every summary
reuses that order (compaction, bin counts and distinct values are then linear or logarithmic).
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Items a sketch level holds before it is compacted; a sketch of at most this many values is exact.
SKETCH_CAPACITY = 2048
#: Distinct values a numeric column may have for its exact value table (Evidently treats a numeric
#: column with at most 5 distinct values as categorical; a little headroom shows a new value).
FEW_VALUES = 8
Kind = Literal["numeric", "categorical"]


def _pack(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def _unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").astype(np.float64)


@dataclass
class Moments:
    """Count, mean and sum of squared deviations, merged with Chan et al.'s parallel formula."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        if not len(values):
            return cls()
        mean = float(values.mean())
        return cls(len(values), mean, float(np.square(values - mean).sum()))

    def merge(self, other: Moments) -> Moments:
        """Combine two disjoint parts; written symmetrically so ``a.merge(b) == b.merge(a)``."""
        if not self.count or not other.count:
            return Moments(**vars(other if not self.count else self))
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = (self.count * self.mean + other.count * other.mean) / n
        m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / n)
        return Moments(n, mean, m2)

    @property
    def variance(self) -> float:
        """Population variance (``np.var``), 0 for fewer than two values."""
        return self.m2 / self.count if self.count > 1 else 0.0

    @property
    def std(self) -> float:
        return math.sqrt(max(self.variance, 0.0))


@dataclass
class QuantileSketch:
    """A deterministic KLL-style compactor stack (Karnin-Lang-Liberty, with MRL's fixed capacity).

    Level ``h`` holds sorted items of weight ``2**h``. When a level exceeds ``capacity`` it is
    compacted: every other item (alternating the offset) moves up with twice the weight. A
    compaction at level ``h`` moves the estimated rank of any value by at most ``2**h``, so the
    sketch adds up those weights in ``rank_error``: a guaranteed bound on the rank error of every
    rank and quantile it answers (0 while it holds every value).
    """

    capacity: int = SKETCH_CAPACITY
    levels: list[np.ndarray] = field(default_factory=list)
    parity: list[int] = field(default_factory=list)
    count: int = 0
    rank_error: int = 0

    def update_sorted(self, values: np.ndarray) -> None:
        """Add a sorted batch of finite floats."""
        if not len(values):
            return
        self._ensure(1)
        self.levels[0] = _merge_sorted(self.levels[0], values)
        self.count += len(values)
        self._compress()

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """A new sketch of both parts; its rank error is the sum of theirs plus new compactions."""
        out = QuantileSketch(max(self.capacity, other.capacity))
        out._ensure(max(len(self.levels), len(other.levels)))
        for h in range(len(out.levels)):
            parts = [s.levels[h] for s in (self, other) if h < len(s.levels)]
            out.levels[h] = _merge_sorted(*parts) if len(parts) == 2 else parts[0].copy()
            out.parity[h] = sum(s.parity[h] for s in (self, other) if h < len(s.parity)) % 2
        out.count, out.rank_error = self.count + other.count, self.rank_error + other.rank_error
        out._compress()
        return out

    def _ensure(self, depth: int) -> None:
        while len(self.levels) < depth:
            self.levels.append(np.empty(0))
            self.parity.append(0)

    def _compress(self) -> None:
        h = 0
        while h < len(self.levels):
            level = self.levels[h]
            if len(level) > self.capacity:
                odd = len(level) % 2  # the largest item of an odd level stays behind
                pairs, rest = (level[:-1], level[-1:]) if odd else (level, level[:0])
                promoted = pairs[self.parity[h] :: 2]
                self.parity[h] ^= 1
                self.rank_error += 1 << h
                self.levels[h] = rest.copy()
                self._ensure(h + 2)
                self.levels[h + 1] = _merge_sorted(self.levels[h + 1], promoted)
            h += 1

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Every held value, sorted, with its weight."""
        if not self.levels:
            return np.empty(0), np.empty(0)
        values = np.concatenate(self.levels)
        weights = np.concatenate([np.full(len(lv), 2.0**h) for h, lv in enumerate(self.levels)])
        order = np.argsort(values, kind="stable")
        return values[order], weights[order]

    def quantiles(self, qs: np.ndarray) -> np.ndarray:
        """Values at the fractions ``qs``; each one's true rank is within ``rank_error`` of q·n."""
        values, weights = self.items()
        if not len(values):
            return np.full(len(qs), np.nan)
        cum = np.cumsum(weights)
        idx = np.searchsorted(cum, np.clip(qs, 0, 1) * self.count, side="left")
        return values[np.minimum(idx, len(values) - 1)]

    def weighted_counts(self, edges: np.ndarray) -> np.ndarray:
        """Estimated counts of the bins that ``edges`` cut (see :class:`Bins`)."""
        values, weights = self.items()
        cum = np.concatenate([[0.0], np.cumsum(weights)])
        below = cum[np.searchsorted(values, edges, side="left")]
        return np.diff(np.concatenate([[0.0], below, [cum[-1]]]))

    @property
    def exact(self) -> bool:
        """True while the sketch holds every value it was given."""
        return self.rank_error == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "count": self.count,
            "rank_error": self.rank_error,
            "parity": list(self.parity),
            "levels": [_pack(level) for level in self.levels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantileSketch:
        return cls(
            int(data["capacity"]),
            [_unpack(level) for level in data["levels"]],
            [int(p) for p in data["parity"]],
            int(data["count"]),
            int(data["rank_error"]),
        )


def _merge_sorted(*parts: np.ndarray) -> np.ndarray:
    joined = np.concatenate(parts)
    return joined if len(parts) == 1 else np.sort(joined, kind="stable")


@dataclass
class Bins:
    """Counts over fixed edges: bin 0 is ``< edges[0]``, bin i is ``[edges[i-1], edges[i])``, and
    the last bin is ``>= edges[-1]``. Edges are a reference's quantiles, fixed at reference time,
    so the current windows profiled against one reference share them and merge exactly."""

    edges: np.ndarray
    counts: np.ndarray

    @classmethod
    def empty(cls, edges: np.ndarray) -> Bins:
        return cls(np.asarray(edges, dtype=np.float64), np.zeros(len(edges) + 1, dtype=np.int64))

    def update_sorted(self, values: np.ndarray) -> None:
        below = np.searchsorted(values, self.edges, side="left")
        self.counts += np.diff(np.concatenate([[0], below, [len(values)]])).astype(np.int64)

    def merge(self, other: Bins) -> Bins:
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("bins with different edges")
        return Bins(self.edges.copy(), self.counts + other.counts)

    def to_dict(self) -> dict[str, Any]:
        return {"edges": [float(e) for e in self.edges], "counts": [int(c) for c in self.counts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bins:
        return cls(
            np.asarray(data["edges"], dtype=np.float64),
            np.asarray(data["counts"], dtype=np.int64),
        )


@dataclass
class Frequencies:
    """Counts per category, at most ``top_k`` of them; the rest are added up in ``other``.

    Exact while a column has at most ``top_k`` distinct values; past that, the smallest counts
    (ties broken by the category) fold into ``other`` after each batch and merge, so a kept count
    can be low by at most the ``other`` total.
    """

    top_k: int = 100
    counts: dict[str, int] = field(default_factory=dict)
    other: int = 0

    def add(self, counts: dict[str, int]) -> None:
        for key, n in counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        self._truncate()

    def merge(self, other: Frequencies) -> Frequencies:
        out = Frequencies(max(self.top_k, other.top_k), dict(self.counts), self.other + other.other)
        out.add(other.counts)
        return out

    def _truncate(self) -> None:
        if len(self.counts) <= self.top_k:
            return
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.other += sum(n for _, n in ranked[self.top_k :])
        self.counts = dict(ranked[: self.top_k])

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.other

    def to_dict(self) -> dict[str, Any]:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"top_k": self.top_k, "counts": dict(ranked), "other": self.other}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frequencies:
        counts = {str(k): int(v) for k, v in data["counts"].items()}
        return cls(int(data["top_k"]), counts, int(data["other"]))


def distinct_counts(values: np.ndarray) -> dict[float, int]:
    """Distinct values of a sorted array and how often each occurs (linear, no second sort)."""
    if not len(values):
        return {}
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    sizes = np.diff(np.concatenate([starts, [len(values)]]))
    return {float(values[s]): int(n) for s, n in zip(starts, sizes, strict=True)}


# --- Arrow values as numbers and counts ------------------------------------------------------
def kind_of(type_: pa.DataType) -> Kind | None:
    if pa.types.is_null(type_):
        return None
    if pa.types.is_boolean(type_):
        return "categorical"
    numeric = (
        pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_)
    )
    return "numeric" if numeric or pa.types.is_temporal(type_) else "categorical"


def as_floats(array: pa.Array) -> tuple[np.ndarray, int, int]:
    """Finite numbers of a column, its missing count and its type-violation count."""
    missing = array.null_count
    present = pc.drop_null(array)
    if pa.types.is_temporal(present.type):  # times as seconds since the epoch
        present = pc.cast(pc.cast(present, pa.timestamp("us")), pa.int64())
        return present.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6, missing, 0
    if (
        pa.types.is_integer(present.type)
        or pa.types.is_floating(present.type)
        or pa.types.is_decimal(present.type)
    ):
        values = present.to_numpy(zero_copy_only=False).astype(np.float64)
        nan = np.isnan(values)
        finite = np.isfinite(values)
        kept = values[finite] + 0.0  # -0.0 becomes 0.0: one zero, whatever the merge order
        return kept, missing + int(nan.sum()), int((~finite & ~nan).sum())
    if pa.types.is_null(present.type):
        return np.empty(0), missing, 0
    text = pd.Series(pc.cast(present, pa.string()).to_numpy(zero_copy_only=False))
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    return values[finite] + 0.0, missing, int((~finite).sum())


def value_counts(array: pa.Array) -> dict[str, int]:
    """Counts per distinct value, as text; a dictionary column is counted on its codes."""
    if pa.types.is_dictionary(array.type):
        codes = pc.drop_null(array.indices).to_numpy(zero_copy_only=False)
        tally = np.bincount(codes, minlength=len(array.dictionary))
        names = pc.cast(array.dictionary, pa.string()).to_pylist()
        counts: dict[str, int] = {}
        for name, n in zip(names, tally.tolist(), strict=True):
            if n:
                counts[str(name)] = counts.get(str(name), 0) + n
        return counts
    present = pc.drop_null(array)
    if not pa.types.is_string(present.type):
        present = pc.cast(present, pa.string())
    return {str(p["values"]): int(p["counts"]) for p in pc.value_counts(present).to_pylist()}


def hashed(counts: dict[str, int], key: bytes | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for value, n in counts.items():
        digest = hashlib.sha256((key or b"") + value.encode()).hexdigest()[:16]
        out[f"sha256:{digest}"] = out.get(f"sha256:{digest}", 0) + n
    return out

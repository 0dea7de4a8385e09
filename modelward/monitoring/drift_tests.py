"""The statistical tests of drift, computed from two column profiles (never from raw rows).

Each test returns a :class:`Outcome`: a statistic, and either a p-value (drift when it is below
the threshold) or a distance (drift when it reaches the threshold). scipy does the arithmetic
wherever it can; docs/drift.md states how close each one comes to scipy on the raw data.
scipy is imported inside the tests: it takes most of a second, and every CLI command would pay.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelward.monitoring.profiles import ColumnProfile

#: Evidently's guard: shares of 0 become this before a logarithm is taken.
EMPTY_SHARE = 1e-4
#: Wasserstein distance is divided by the reference standard deviation, at least this.
MIN_STD = 1e-3


class NotComputable(Exception):
    """The profiles lack what a test needs (e.g. a PII column keeps no sketch)."""


@dataclass(frozen=True)
class Outcome:
    statistic: float
    p_value: float | None = None
    distance: float | None = None


@dataclass(frozen=True)
class Test:
    """A named test: which column kinds it takes, whether it gives a p-value, its default."""

    name: str
    kinds: frozenset[str]
    p_value: bool
    threshold: float
    run: Callable[[ColumnProfile, ColumnProfile], Outcome]


def _sample(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    if col.sketch is None or not col.sketch.count:
        raise NotComputable("no quantile sketch (a PII column keeps moments and bins only)")
    return col.sketch.items()


def ks(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """Two-sample Kolmogorov-Smirnov: scipy itself while both sketches are exact."""
    from scipy import stats

    (rv, rw), (cv, cw) = _sample(ref), _sample(cur)
    if ref.sketch and cur.sketch and ref.sketch.exact and cur.sketch.exact:
        result = stats.ks_2samp(rv, cv)
        return Outcome(float(result.statistic), p_value=float(result.pvalue))
    grid = np.concatenate([rv, cv])
    d = float(np.max(np.abs(_cdf(rv, rw, grid) - _cdf(cv, cw, grid))))
    n, m = rw.sum(), cw.sum()
    p = float(stats.kstwo.sf(d, max(1, round(n * m / (n + m)))))  # ks_2samp's "asymp" method
    return Outcome(d, p_value=p)


def _cdf(values: np.ndarray, weights: np.ndarray, at: np.ndarray) -> np.ndarray:
    cum = np.concatenate([[0.0], np.cumsum(weights)])
    return np.asarray(cum[np.searchsorted(values, at, side="right")] / cum[-1])


def wasserstein(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """Wasserstein-1 distance over the sketches, divided by the reference std (Evidently's norm)."""
    from scipy import stats

    (rv, rw), (cv, cw) = _sample(ref), _sample(cur)
    d = stats.wasserstein_distance(rv, cv, rw, cw) / max(ref.moments.std, MIN_STD)
    return Outcome(float(d), distance=float(d))


def mean_shift(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """|mean difference| / reference std: a lower bound of the normed Wasserstein distance,
    the one comparison left for a PII numeric column that has neither sketch nor bins."""
    d = abs(cur.moments.mean - ref.moments.mean) / max(ref.moments.std, MIN_STD)
    return Outcome(d, distance=d)


def shares(ref: ColumnProfile, cur: ColumnProfile) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Bin (numeric) or category labels with the reference's and the current's counts."""
    if ref.kind == "categorical":
        return _category_counts(ref, cur)
    if ref.values is not None and cur.values is not None and len(ref.values) <= 5:
        keys = sorted(set(ref.values) | set(cur.values))
        labels = [f"{k:g}" for k in keys]
        return labels, _vector(ref.values, keys), _vector(cur.values, keys)
    edges = ref.reference_edges()
    if edges is None:
        raise NotComputable("the reference has no bins or sketch for this column")
    r, c = ref.bin_counts(edges), cur.bin_counts(edges)
    if r is None or c is None:
        raise NotComputable("the current window has no bins or sketch for this column")
    labels = [f"< {edges[0]:.4g}"]
    labels += [f"[{lo:.4g}, {hi:.4g})" for lo, hi in itertools.pairwise(edges)]
    return [*labels, f">= {edges[-1]:.4g}"], r, c


def _category_counts(
    ref: ColumnProfile, cur: ColumnProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    rt, ct = ref.table, cur.table
    if rt is None or ct is None:
        raise NotComputable("no frequency table")
    keys = sorted(set(rt.counts) | set(ct.counts), key=lambda k: (-rt.counts.get(k, 0), k))
    r, c = _vector(rt.counts, keys), _vector(ct.counts, keys)
    if rt.other or ct.other:  # categories beyond top-K on either side, pooled
        keys, r, c = [*keys, "(other)"], np.append(r, rt.other), np.append(c, ct.other)
    return [str(k) for k in keys], r, c


def _vector(counts: Mapping[Any, int], keys: Sequence[Any]) -> np.ndarray:
    return np.array([counts.get(k, 0) for k in keys], dtype=np.float64)


def _fractions(
    ref: ColumnProfile, cur: ColumnProfile, guard: bool
) -> tuple[np.ndarray, np.ndarray]:
    _, r, c = shares(ref, cur)
    p, q = r / max(r.sum(), 1), c / max(c.sum(), 1)
    if guard:
        p, q = np.where(p == 0, EMPTY_SHARE, p), np.where(q == 0, EMPTY_SHARE, q)
    return p, q


def psi(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """Population stability index over the shared bins or categories."""
    p, q = _fractions(ref, cur, guard=True)
    d = float(np.sum((q - p) * np.log(q / p)))
    return Outcome(d, distance=d)


def jensen_shannon(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """Jensen-Shannon distance (natural log), scipy's ``jensenshannon`` on the shares."""
    from scipy.spatial import distance

    p, q = _fractions(ref, cur, guard=False)
    d = float(distance.jensenshannon(p, q))
    return Outcome(d, distance=d)


def total_variation(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """Total variation distance: half the L1 distance of the shares."""
    p, q = _fractions(ref, cur, guard=False)
    d = float(0.5 * np.abs(p - q).sum())
    return Outcome(d, distance=d)


def chi_square(ref: ColumnProfile, cur: ColumnProfile) -> Outcome:
    """Chi-square test of homogeneity on the 2-by-K table of counts (no continuity correction, so
    for two categories it is the two-proportion Z-test Evidently uses for binary columns)."""
    from scipy import stats

    _, r, c = shares(ref, cur)
    keep = (r + c) > 0
    if keep.sum() < 2:
        return Outcome(0.0, p_value=1.0)  # one category on both sides: nothing can differ
    result = stats.chi2_contingency(np.vstack([r[keep], c[keep]]), correction=False)
    return Outcome(float(result.statistic), p_value=float(result.pvalue))


_BOTH = frozenset({"numeric", "categorical"})
TESTS: dict[str, Test] = {
    t.name: t
    for t in (
        Test("ks", frozenset({"numeric"}), True, 0.05, ks),
        Test("wasserstein", frozenset({"numeric"}), False, 0.1, wasserstein),
        Test("mean_shift", frozenset({"numeric"}), False, 0.1, mean_shift),
        Test("chisquare", _BOTH, True, 0.05, chi_square),
        Test("psi", _BOTH, False, 0.1, psi),
        Test("jensenshannon", _BOTH, False, 0.1, jensen_shannon),
        Test("tvd", _BOTH, False, 0.1, total_variation),
    )
}

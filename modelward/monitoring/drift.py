"""Drift between a reference profile and a current one, column by column and for the dataset.

The default test per column follows Evidently's rule (docs/drift.md): with at most
:data:`SMALL_REFERENCE` reference rows, p-value tests — Kolmogorov-Smirnov for numeric columns,
chi-square for categorical ones (and numeric ones with at most 5 distinct values); with more,
distances — Wasserstein normed by the reference std for numeric columns and Jensen-Shannon for
categorical ones, threshold 0.1. Any column's test and threshold can be overridden. The dataset
drifts when the share of drifted columns reaches ``share``. Everything works from profiles, so
a stored reference profile is all the reference a monitor needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from modelward.errors import InvalidInputError
from modelward.monitoring.drift_tests import TESTS, NotComputable, Test, shares
from modelward.monitoring.profiles import ColumnProfile, DatasetProfile

SMALL_REFERENCE = 1000
INSUFFICIENT = "insufficient data"


@dataclass(frozen=True)
class Override:
    """A column's own test and/or threshold."""

    test: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict; ``statistic`` is None when there was too little data to test."""

    column: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    distance: float | None
    threshold: float
    drifted: bool
    note: str | None = None
    bars: tuple[list[str], list[float], list[float]] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("bars")
        return out


@dataclass(frozen=True)
class DriftReport:
    """Every tested column, the columns only one side has, and the dataset verdict."""

    columns: list[ColumnDrift]
    share: float
    added: list[str] = field(default_factory=list)  # in the current data only
    removed: list[str] = field(default_factory=list)  # in the reference only

    @property
    def tested(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.statistic is not None]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def drift_share(self) -> float:
        """Drifted columns over tested columns (0 when none could be tested)."""
        return len(self.drifted_columns) / len(self.tested) if self.tested else 0.0

    @property
    def dataset_drifted(self) -> bool:
        return bool(self.tested) and self.drift_share >= self.share

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drifted": self.dataset_drifted,
            "drift_share": self.drift_share,
            "share_threshold": self.share,
            "drifted_columns": self.drifted_columns,
            "tested_columns": len(self.tested),
            "added_columns": self.added,
            "removed_columns": self.removed,
            "columns": [c.to_dict() for c in self.columns],
        }


def test_names() -> list[str]:
    """The names ``--test`` and overrides accept."""
    return sorted(TESTS)


def check_test(name: str) -> Test:
    """The test called ``name``, or a clear error listing the known ones."""
    if name not in TESTS:
        raise InvalidInputError(
            f"unknown drift test {name!r}", hint=f"use one of: {', '.join(test_names())}"
        )
    return TESTS[name]


def default_test(ref: ColumnProfile) -> Test:
    """Evidently's choice from the column's kind, its reference size and distinct values."""
    few = ref.kind == "numeric" and ref.values is not None and len(ref.values) <= 5
    categorical = ref.kind == "categorical" or few
    if ref.kind == "numeric" and not few and ref.sketch is None:
        return TESTS["mean_shift"]  # a PII column: moments are all there is
    if ref.valid <= SMALL_REFERENCE:
        return TESTS["chisquare" if categorical else "ks"]
    return TESTS["jensenshannon" if categorical else "wasserstein"]


def compare(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    columns: Iterable[str] | None = None,
    overrides: Mapping[str, Override] | None = None,
    share: float = 0.5,
) -> DriftReport:
    """Test each column both profiles have (or those named) and give the dataset verdict."""
    if not 0 < share <= 1:
        raise InvalidInputError(f"share must be in (0, 1], not {share}", hint="e.g. 0.5")
    common = [c for c in reference.columns if c in current.columns]
    wanted = list(columns) if columns is not None else common
    unknown = [c for c in wanted if c not in reference.columns or c not in current.columns]
    if unknown:
        raise InvalidInputError(
            f"column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            "not in both datasets",
            hint=f"columns in both: {', '.join(common) or 'none'}",
        )
    overrides = dict(overrides or {})
    stray = sorted(set(overrides) - set(wanted))
    if stray:
        raise InvalidInputError(
            f"override for column{'s' if len(stray) > 1 else ''} not compared: {', '.join(stray)}",
            hint=f"compared columns: {', '.join(wanted) or 'none'}",
        )
    results = [
        column_drift(name, reference.columns[name], current.columns[name], overrides.get(name))
        for name in wanted
    ]
    added = sorted(set(current.columns) - set(reference.columns))
    removed = sorted(set(reference.columns) - set(current.columns))
    return DriftReport(results, share, added, removed)


def prediction_drift(
    reference: DatasetProfile, current: DatasetProfile, outputs: Iterable[str], **options: Any
) -> DriftReport:
    """Drift of a model's output columns: the same tests, on the outputs only."""
    return compare(reference, current, columns=list(outputs), **options)


def column_drift(
    name: str, ref: ColumnProfile, cur: ColumnProfile, override: Override | None = None
) -> ColumnDrift:
    """One column's test, with an override's test and threshold taking precedence."""
    test = check_test(override.test) if override and override.test else default_test(ref)
    if ref.kind not in test.kinds:
        raise InvalidInputError(
            f"test {test.name!r} does not apply to {ref.kind} column {name!r}",
            hint="for categorical columns use chisquare, psi, jensenshannon or tvd",
        )
    threshold = (
        override.threshold if override and override.threshold is not None else test.threshold
    )
    verdict = ColumnDrift(name, ref.kind, test.name, None, None, None, threshold, False)
    if ref.kind != cur.kind:
        return replace(verdict, note=f"the current data has this column as {cur.kind}")
    empty = [side for side, col in (("reference", ref), ("current", cur)) if col.valid == 0]
    if empty:
        return replace(verdict, note=f"{INSUFFICIENT}: no values in the {' and '.join(empty)} data")
    try:
        outcome = test.run(ref, cur)
    except NotComputable as exc:
        return replace(verdict, note=f"{INSUFFICIENT}: {exc}")
    if outcome.p_value is not None:
        drifted = outcome.p_value < threshold
    else:
        drifted = outcome.statistic >= threshold
    return replace(
        verdict,
        statistic=outcome.statistic,
        p_value=outcome.p_value,
        distance=outcome.distance,
        drifted=bool(drifted),
        note=_note(cur),
        bars=_bars(ref, cur),
    )


def _bars(
    ref: ColumnProfile, cur: ColumnProfile
) -> tuple[list[str], list[float], list[float]] | None:
    """Reference and current shares per bin or category, for a report's charts."""
    try:
        labels, r, c = shares(ref, cur)
    except NotComputable:
        return None
    return labels, (r / max(r.sum(), 1)).tolist(), (c / max(c.sum(), 1)).tolist()


def _note(cur: ColumnProfile) -> str | None:
    parts = []
    if cur.invalid:
        parts.append(f"{cur.invalid} value(s) of the wrong type")
    if cur.unseen:
        parts.append(f"{cur.unseen} value(s) of categories the reference lacks")
    return "; ".join(parts) or None

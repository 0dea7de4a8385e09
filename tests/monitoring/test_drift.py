"""Drift tests from profiles, checked against scipy on the raw data."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from modelward.errors import InvalidInputError
from modelward.monitoring.drift import (
    INSUFFICIENT,
    Override,
    compare,
    default_test,
    prediction_drift,
)
from modelward.monitoring.profiles import DatasetProfile, profile_table

RNG = np.random.default_rng(42)


def _pair(ref: dict[str, object], cur: dict[str, object]) -> tuple[DatasetProfile, DatasetProfile]:
    reference = profile_table(pa.table(ref))
    return reference, profile_table(pa.table(cur), reference)


def _one(ref, cur, test: str, column: str = "x"):
    reference, current = _pair({column: ref}, {column: cur})
    return compare(reference, current, overrides={column: Override(test)}).columns[0]


def _raw_shares(ref: np.ndarray, cur: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    def share(x: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
        return counts / counts.sum()

    return share(ref), share(cur)


@pytest.mark.parametrize("n", [300, 200_000])
def test_ks_and_wasserstein_match_scipy_on_the_raw_data(n: int) -> None:
    ref, cur = RNG.normal(0, 1, n), RNG.normal(0.05, 1.1, n)
    reference, current = _pair({"x": ref}, {"x": cur})
    ks = compare(reference, current, overrides={"x": Override("ks")}).columns[0]
    wd = compare(reference, current, overrides={"x": Override("wasserstein")}).columns[0]
    expected_ks = stats.ks_2samp(ref, cur, method="asymp")
    expected_wd = stats.wasserstein_distance(ref, cur) / np.std(ref)
    r_sk, c_sk = reference.columns["x"].sketch, current.columns["x"].sketch
    rank_tolerance = (r_sk.rank_error + c_sk.rank_error) / n  # 0 while both sketches are exact
    assert ks.statistic == pytest.approx(expected_ks.statistic, abs=rank_tolerance + 1e-12)
    if rank_tolerance == 0:
        assert ks.p_value == pytest.approx(stats.ks_2samp(ref, cur).pvalue, rel=1e-9)
        assert wd.distance == pytest.approx(expected_wd, rel=1e-9)
    else:
        en = round(n * n / (2 * n))  # the p-value is scipy's asymptotic one at a D this close
        low = stats.kstwo.sf(expected_ks.statistic + rank_tolerance, en)
        high = stats.kstwo.sf(expected_ks.statistic - rank_tolerance, en)
        assert low <= ks.p_value <= high
        assert wd.distance == pytest.approx(expected_wd, abs=0.01)


@pytest.mark.parametrize("n", [400, 100_000])
def test_numeric_psi_and_jensen_shannon_match_the_raw_data_over_the_reference_bins(n: int) -> None:
    ref, cur = RNG.gamma(2.0, 1.0, n), RNG.gamma(2.4, 1.0, n)
    reference, current = _pair({"x": ref}, {"x": cur})
    edges = reference.columns["x"].reference_edges()
    p, q = _raw_shares(ref, cur, edges)
    tolerance = 0 if reference.columns["x"].sketch.exact else 0.01
    js = compare(reference, current, overrides={"x": Override("jensenshannon")}).columns[0]
    assert js.distance == pytest.approx(jensenshannon(p, q), abs=tolerance + 1e-12)
    pg, qg = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    psi = compare(reference, current, overrides={"x": Override("psi")}).columns[0]
    assert psi.distance == pytest.approx(
        np.sum((qg - pg) * np.log(qg / pg)), abs=tolerance * 5 + 1e-12
    )


def test_categorical_tests_are_exact_against_scipy() -> None:
    ref = RNG.choice(["a", "b", "c", "d"], 5000, p=[0.4, 0.3, 0.2, 0.1])
    cur = RNG.choice(["a", "b", "c", "e"], 3000, p=[0.35, 0.35, 0.2, 0.1])
    keys = ["a", "b", "c", "d", "e"]
    r = np.array([(ref == k).sum() for k in keys])
    c = np.array([(cur == k).sum() for k in keys])
    chi = _one(ref, cur, "chisquare")
    expected = stats.chi2_contingency(np.vstack([r, c]), correction=False)
    assert chi.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert chi.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    p, q = r / r.sum(), c / c.sum()
    assert _one(ref, cur, "jensenshannon").distance == pytest.approx(jensenshannon(p, q), rel=1e-12)
    assert _one(ref, cur, "tvd").distance == pytest.approx(0.5 * np.abs(p - q).sum(), rel=1e-12)
    pg, qg = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    assert _one(ref, cur, "psi").distance == pytest.approx(np.sum((qg - pg) * np.log(qg / pg)))
    assert "categories the reference lacks" in (chi.note or "")


def test_binary_chi_square_is_the_two_proportion_z_test() -> None:
    ref, cur = np.array([True] * 300 + [False] * 700), np.array([True] * 380 + [False] * 620)
    result = _one(ref, cur, "chisquare")
    pooled = (300 + 380) / 2000
    z = (0.38 - 0.30) / np.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_default_tests_follow_reference_size_and_kind() -> None:
    small, _ = _pair({"x": RNG.normal(size=1000), "c": ["a", "b"] * 500, "f": [1, 2] * 500}, {})
    big, _ = _pair(
        {"x": RNG.normal(size=1001), "c": ["a"] * 1001, "f": ([1, 2, 3] * 334)[:1001]}, {}
    )
    assert [default_test(small.columns[c]).name for c in ("x", "c", "f")] == [
        "ks",
        "chisquare",
        "chisquare",
    ]
    assert [default_test(big.columns[c]).name for c in ("x", "c", "f")] == [
        "wasserstein",
        "jensenshannon",
        "jensenshannon",
    ]
    pii = profile_table(pa.table({"s": RNG.normal(size=50)}), pii={"s"})
    assert default_test(pii.columns["s"]).name == "mean_shift"


def test_defaults_flag_a_shift_and_pass_the_same_distribution() -> None:
    n = 5000
    reference, current = _pair(
        {"same": RNG.normal(size=n), "moved": RNG.normal(size=n), "c": RNG.choice(list("ab"), n)},
        {"same": RNG.normal(size=n), "moved": RNG.normal(1, 1, n), "c": RNG.choice(list("ab"), n)},
    )
    report = compare(reference, current)
    assert report.drifted_columns == ["moved"]
    assert not report.dataset_drifted and report.drift_share == pytest.approx(1 / 3)
    assert compare(reference, current, share=0.3).dataset_drifted
    body = json.dumps(report.to_dict(), allow_nan=False)
    assert '"test": "wasserstein"' in body and '"test": "jensenshannon"' in body


def test_overrides_change_test_and_threshold_and_refuse_nonsense() -> None:
    n = 3000
    reference, current = _pair({"x": RNG.normal(size=n)}, {"x": RNG.normal(0.15, 1, n)})
    loose = compare(reference, current, overrides={"x": Override(threshold=0.5)}).columns[0]
    assert (loose.test, loose.threshold, loose.drifted) == ("wasserstein", 0.5, False)
    strict = compare(reference, current, overrides={"x": Override("ks", 1e-3)}).columns[0]
    assert (strict.test, strict.drifted) == ("ks", True) and strict.p_value < 1e-3
    with pytest.raises(InvalidInputError, match="unknown drift test") as bad:
        compare(reference, current, overrides={"x": Override("kolmogorov")})
    assert "ks" in (bad.value.hint or "")
    cats, cur_cats = _pair({"c": ["a", "b"]}, {"c": ["a"]})
    with pytest.raises(InvalidInputError, match="does not apply"):
        compare(cats, cur_cats, overrides={"c": Override("ks")})
    with pytest.raises(InvalidInputError, match="not compared"):
        compare(reference, current, overrides={"y": Override("psi")})
    with pytest.raises(InvalidInputError, match="not in both"):
        compare(reference, current, columns=["nope"])
    with pytest.raises(InvalidInputError, match="share"):
        compare(reference, current, share=0)


def test_an_empty_window_is_insufficient_data_not_drift() -> None:
    reference = profile_table(pa.table({"x": RNG.normal(size=100), "c": ["a"] * 100}))
    empty = profile_table(
        pa.table({"x": pa.array([], pa.float64()), "c": pa.array([], pa.string())}), reference
    )
    report = compare(reference, empty)
    assert [c.statistic for c in report.columns] == [None, None]
    assert all(INSUFFICIENT in (c.note or "") and not c.drifted for c in report.columns)
    assert not report.dataset_drifted and report.drift_share == 0.0
    json.dumps(report.to_dict(), allow_nan=False)
    nulls = profile_table(pa.table({"x": pa.array([None, None], pa.float64())}), reference)
    assert compare(reference, nulls, columns=["x"]).columns[0].statistic is None


def test_constant_columns_and_schema_changes_are_reported() -> None:
    reference, current = _pair(
        {"k": [5.0] * 2000, "old": [1.0] * 2000},
        {"k": [5.0] * 1000 + [6.0] * 1000, "new": ["x"] * 2000},
    )
    report = compare(reference, current)
    assert report.added == ["new"] and report.removed == ["old"]
    (k,) = report.columns
    assert k.drifted and np.isfinite(k.statistic)
    assert report.to_dict()["added_columns"] == ["new"]


def test_prediction_drift_tests_the_output_columns_only() -> None:
    n = 2000
    reference, current = _pair(
        {"x": RNG.normal(size=n), "score": RNG.uniform(0, 1, n)},
        {"x": RNG.normal(3, 1, n), "score": RNG.uniform(0, 1, n)},
    )
    report = prediction_drift(reference, current, ["score"])
    assert [c.column for c in report.columns] == ["score"] and not report.dataset_drifted


def test_pii_numeric_columns_compare_by_mean_shift() -> None:
    reference = profile_table(pa.table({"s": RNG.normal(50, 10, 500)}), pii={"s"})
    current = profile_table(pa.table({"s": RNG.normal(55, 10, 500)}), reference, pii={"s"})
    (s,) = compare(reference, current).columns
    assert (
        s.test == "mean_shift"
        and s.drifted
        and s.distance
        == pytest.approx(
            abs(current.columns["s"].moments.mean - reference.columns["s"].moments.mean)
            / reference.columns["s"].moments.std
        )
    )
    wd = compare(reference, current, overrides={"s": Override("wasserstein")}).columns[0]
    assert wd.statistic is None and INSUFFICIENT in (wd.note or "")

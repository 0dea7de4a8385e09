"""Column profiles: exact merges, stated sketch error, JSON round trips and the awkward columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelward.errors import InvalidInputError
from modelward.monitoring.profiles import DatasetProfile, profile_batches, profile_table
from modelward.monitoring.sketch import QuantileSketch

CATS = ["red", "green", "blue", "grey"]


def _table(nums: list[float | None], cats: list[str | None], ints: list[int]) -> pa.Table:
    return pa.table(
        {
            "num": pa.array(nums, pa.float64()),
            "cat": pa.array(cats, pa.string()),
            "few": pa.array(ints, pa.int64()),
        }
    )


rows = st.integers(0, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=n, max_size=n),
        st.lists(st.one_of(st.none(), st.sampled_from(CATS)), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)
REFERENCE = profile_table(
    _table([float(i) for i in range(-50, 50)], CATS[:3] * 33 + [None], [0, 1] * 50)
)


def _exact_part(col: dict[str, object]) -> dict[str, object]:
    """Everything a merge must reproduce exactly (moments and the sketch are checked apart)."""
    return {k: v for k, v in col.items() if k not in ("moments", "sketch")}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, rows, st.booleans())
def test_merged_profiles_equal_the_profile_of_the_union(a, b, against_reference) -> None:
    ref = REFERENCE if against_reference else None
    ta, tb = _table(*a), _table(*b)
    merged = profile_table(ta, ref).merge(profile_table(tb, ref))
    whole = profile_table(pa.concat_tables([ta, tb]), ref)
    assert merged.rows == whole.rows == ta.num_rows + tb.num_rows
    for name, col in whole.to_dict()["columns"].items():
        got = merged.to_dict()["columns"][name]
        assert _exact_part(got) == _exact_part(col)
        if col["kind"] == "numeric":
            ours, theirs = merged.columns[name].moments, whole.columns[name].moments
            assert ours.count == theirs.count
            assert ours.mean == pytest.approx(theirs.mean, rel=1e-9, abs=1e-6)
            assert ours.m2 == pytest.approx(theirs.m2, rel=1e-9, abs=1e-3)
            sketch = merged.columns[name].sketch
            assert sketch is not None and sketch.exact  # under capacity: every value held
            assert np.array_equal(sketch.items()[0], whole.columns[name].sketch.items()[0])
    assert merged.to_dict() == profile_table(tb, ref).merge(profile_table(ta, ref)).to_dict()


def _rank_errors(sketch: QuantileSketch, data: np.ndarray) -> np.ndarray:
    qs = np.linspace(0, 1, 201)
    est, ordered = sketch.quantiles(qs), np.sort(data)
    below = np.searchsorted(ordered, est, side="left")
    upto = np.searchsorted(ordered, est, side="right")
    target = qs * len(data)
    return np.maximum(0, np.maximum(below - target, target - upto))


@pytest.mark.parametrize("capacity", [16, 128])
def test_sketch_quantiles_stay_within_the_recorded_rank_error(capacity: int) -> None:
    rng = np.random.default_rng(capacity)
    parts = [rng.lognormal(0, 2, int(n)) for n in rng.integers(1, 5000, 12)]
    sketches = []
    for part in parts:
        sketch = QuantileSketch(capacity)
        for chunk in np.array_split(part, 3):
            sketch.update_sorted(np.sort(chunk))
        sketches.append(sketch)
    merged = sketches[0]
    for other in sketches[1:]:
        merged = merged.merge(other)
    data = np.concatenate(parts)
    assert merged.count == len(data) and merged.rank_error > 0
    errors = _rank_errors(merged, data)
    assert errors.max() <= merged.rank_error
    assert sum(len(level) for level in merged.levels) <= capacity * len(merged.levels)


def test_a_sketch_of_a_million_values_is_within_a_tenth_of_a_percent() -> None:
    data = np.random.default_rng(7).normal(100, 15, 1_000_000)
    sketch = profile_table(pa.table({"x": data})).columns["x"].sketch
    assert sketch is not None and sketch.rank_error <= 0.002 * len(data)
    assert _rank_errors(sketch, data).max() <= sketch.rank_error


def test_profiles_survive_json_and_refuse_other_format_versions() -> None:
    frame = pd.DataFrame({"x": [1.5, 2.5, None, 4.0], "c": ["a", "b", "a", None]})
    profile = profile_table(frame)
    text = json.dumps(profile.to_dict(), allow_nan=False)
    again = DatasetProfile.from_dict(json.loads(text))
    assert again.to_dict() == profile.to_dict()
    assert profile.columns["x"].missing == 1 and profile.columns["c"].table.counts == {
        "a": 2,
        "b": 1,
    }
    with pytest.raises(InvalidInputError, match="format version"):
        DatasetProfile.from_dict({**profile.to_dict(), "format_version": 99})


def test_awkward_columns_are_counted_not_fatal() -> None:
    batches = [
        pa.record_batch({"empty": pa.nulls(3), "flat": [2.0, 2.0, 2.0], "gone": [1, 2, 3]}),
        pa.record_batch({"empty": pa.nulls(2), "flat": [2.0, 2.0], "new": ["x", "y"]}),
    ]
    profile = profile_batches(batches)
    cols = profile.columns
    assert profile.rows == 5 and all(c.rows == 5 for c in cols.values())
    assert cols["empty"].missing == 5 and cols["empty"].valid == 0
    assert cols["flat"].moments.variance == 0.0 and cols["flat"].values == {2.0: 5}
    assert (cols["gone"].valid, cols["gone"].missing) == (3, 2)
    assert (cols["new"].valid, cols["new"].missing) == (2, 3)
    assert profile_batches([]).rows == 0 and profile_batches([]).columns == {}
    zero = profile_table(pa.table({"x": pa.array([], pa.float64())}))
    assert zero.columns["x"].valid == 0 and zero.columns["x"].sketch.count == 0


def test_text_in_a_numeric_column_counts_as_type_violations() -> None:
    reference = profile_table(pa.table({"age": [30, 40, 50]}))
    current = profile_batches(
        [
            pa.record_batch({"age": pa.array([31, 41])}),
            pa.record_batch({"age": pa.array(["52", "n/a", None, "abc"])}),
        ],
        reference,
    )
    age = current.columns["age"]
    assert (age.kind, age.valid, age.invalid, age.missing) == ("numeric", 3, 2, 1)
    assert age.bins is not None and age.bins.counts.sum() == 3
    inf = profile_table(pa.table({"x": [1.0, float("inf"), float("nan")]})).columns["x"]
    assert (inf.valid, inf.invalid, inf.missing) == (1, 1, 1)


def test_a_null_column_takes_the_type_of_its_first_values() -> None:
    batches = [pa.record_batch({"c": pa.nulls(2)}), pa.record_batch({"c": ["a", "b"]})]
    first = profile_batches(batches)
    assert first.columns["c"].kind == "categorical" and first.columns["c"].missing == 2
    late = profile_batches([pa.record_batch({"n": pa.nulls(2)}), pa.record_batch({"n": [1.0]})])
    assert late.columns["n"].kind == "numeric" and late.columns["n"].rows == 3
    nulls_only = profile_batches([pa.record_batch({"n": pa.nulls(2)})])
    assert late.merge(nulls_only).columns["n"].missing == 4


def test_current_windows_count_unseen_categories_and_share_reference_bins() -> None:
    reference = profile_table(pa.table({"c": ["a", "b"] * 50, "x": np.arange(100.0)}))
    w1 = profile_table(pa.table({"c": ["a", "z", "z"], "x": [-5.0, 50.0, 500.0]}), reference)
    w2 = profile_table(pa.table({"c": ["q"], "x": [10.0]}), reference)
    both = w1.merge(w2)
    assert both.columns["c"].unseen == 3
    bins = both.columns["x"].bins
    assert bins is not None and bins.counts[0] == 1 and bins.counts[-1] == 1
    assert bins.counts.sum() == 4
    with pytest.raises(InvalidInputError, match="different bins"):
        other_reference = profile_table(pa.table({"x": [1.0, 2.0]}))
        w1.merge(profile_table(pa.table({"x": [1.0]}), other_reference))


def test_pii_columns_keep_no_raw_values() -> None:
    frame = pd.DataFrame(
        {"email": ["ann@example.com", "bob@example.com"] * 3, "salary": [51234.5, 98765.25] * 3}
    )
    reference = profile_table(frame, pii={"email", "salary"}, pii_key=b"secret")
    text = json.dumps(reference.to_dict())
    for raw in ("ann@example.com", "bob@example.com", "51234.5", "98765.25"):
        assert raw not in text
    email, salary = reference.columns["email"], reference.columns["salary"]
    assert email.pii and sum(email.table.counts.values()) == 6
    assert all(k.startswith("sha256:") for k in email.table.counts)
    assert salary.sketch is None and salary.minimum is None and salary.moments.count == 6
    unkeyed = profile_table(frame, pii={"email"})
    assert set(unkeyed.columns["email"].table.counts) != set(email.table.counts)
    current = profile_table(frame.head(2), reference, pii={"email"}, pii_key=b"secret")
    assert current.columns["email"].unseen == 0


def test_top_k_folds_rare_categories_into_other() -> None:
    values = [f"v{i}" for i in range(10) for _ in range(i + 1)]
    table = profile_table(pa.table({"c": values}), top_k=3).columns["c"].table
    assert table is not None and table.counts == {"v9": 10, "v8": 9, "v7": 8}
    assert table.other == len(values) - 27 and table.total == len(values)


def test_dictionary_encoded_columns_count_like_plain_text() -> None:
    frame = pd.DataFrame(
        {"c": pd.Categorical(["a", "b", "a", None, "a"], categories=["a", "b", "z"])}
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert pa.types.is_dictionary(table.schema.field("c").type)
    encoded = profile_table(table).columns["c"]
    plain = profile_table(table.cast(pa.schema([("c", pa.string())]))).columns["c"]
    assert encoded.to_dict() == plain.to_dict()
    assert encoded.table is not None and encoded.table.counts == {"a": 3, "b": 1}
    assert encoded.missing == 1

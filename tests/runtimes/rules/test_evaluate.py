import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.errors import InvalidInputError
from modelward.runtimes.rules import DecisionTable

INPUTS = [{"name": "x", "type": "double"}, {"name": "c", "type": "string"}]
RULES: list[dict[str, Any]] = [
    {"when": {"x": "< 10"}, "then": {"label": "low", "points": 1, "weight": 0.5}},
    {"when": {"x": "[5..20]"}, "then": {"label": "mid", "points": 2, "weight": 1.5}},
    {"when": {"c": "a"}, "then": {"label": "high", "points": 4, "weight": None}},
]
# rules matching each row:  1,3   1,2   2,3   none   3 (x null)   none (all null)
FRAME = pd.DataFrame(
    {"x": [3.0, 7.0, 15.0, 50.0, None, None], "c": ["a", "b", "a", "b", "a", None]}
)


def build(
    policy: str, outputs: tuple[str, ...] = ("label", "points", "weight"), **extra: Any
) -> DecisionTable:
    declared = {
        "label": {"name": "label", "type": "string", "priority": ["high", "mid", "low"]},
        "points": {"name": "points", "type": "integer"},
        "weight": {"name": "weight", "type": "double"},
    }
    rules = [{"when": r["when"], "then": {k: r["then"][k] for k in outputs}} for r in RULES]
    data = {
        "hit_policy": policy,
        "inputs": INPUTS,
        "outputs": [declared[o] for o in outputs],
        "rules": rules,
        **extra,
    }
    return DecisionTable.from_dict(data)


def cells(series: pd.Series) -> list[Any]:
    return [None if not isinstance(v, list) and pd.isna(v) else v for v in series.tolist()]


def test_first() -> None:
    out = build("FIRST").evaluate(FRAME)
    assert list(out.columns) == ["label", "points", "weight"]
    assert cells(out["label"]) == ["low", "low", "mid", None, "high", None]
    assert cells(out["points"]) == [1, 1, 2, None, 4, None]
    assert cells(out["weight"]) == [0.5, 0.5, 1.5, None, None, None]
    assert out["points"].dtype == "Int64" and out["weight"].dtype == "float64"


def test_default_fills_rows_no_rule_matches() -> None:
    out = build("FIRST", default={"label": "none", "points": 0, "weight": 0}).evaluate(FRAME)
    assert out["label"].tolist() == ["low", "low", "mid", "none", "high", "none"]
    assert out["points"].tolist() == [1, 1, 2, 0, 4, 0]
    assert out["points"].dtype == np.int64


def test_priority_picks_the_highest_ranked_output() -> None:
    out = build("PRIORITY").evaluate(FRAME)
    assert cells(out["label"]) == ["high", "mid", "high", None, "high", None]
    assert cells(out["points"]) == [4, 2, 4, None, 4, None]  # the other outputs of that rule


def test_priority_ties_go_to_the_first_rule_then_the_next_priority_list() -> None:
    data = {
        "hit_policy": "PRIORITY",
        "inputs": [{"name": "x", "type": "integer"}],
        "outputs": [
            {"name": "grade", "type": "string", "priority": ["a", "b"]},
            {"name": "level", "type": "integer", "priority": [3, 2, 1]},
        ],
        "rules": [
            {"when": {"x": "> 0"}, "then": {"grade": "b", "level": 3}},
            {"when": {"x": "> 1"}, "then": {"grade": "a", "level": 1}},
            {"when": {"x": "> 2"}, "then": {"grade": "a", "level": 2}},
            {"when": {"x": "> 3"}, "then": {"grade": "a", "level": 2}},
        ],
    }
    out = DecisionTable.from_dict(data).evaluate(pd.DataFrame({"x": [1, 2, 3, 4]}))
    assert out["grade"].tolist() == ["b", "a", "a", "a"]
    assert out["level"].tolist() == [3, 1, 2, 2]


def test_collect_lists_every_match_in_rule_order() -> None:
    out = build("COLLECT").evaluate(FRAME)
    assert cells(out["label"]) == [
        ["low", "high"],
        ["low", "mid"],
        ["mid", "high"],
        None,
        ["high"],
        None,
    ]
    assert cells(out["points"]) == [[1, 4], [1, 2], [2, 4], None, [4], None]
    assert cells(out["weight"]) == [[0.5, None], [0.5, 1.5], [1.5, None], None, [None], None]


def test_collect_with_a_default_lists_it() -> None:
    out = build("COLLECT", default={"label": "none", "points": 0, "weight": 0}).evaluate(FRAME)
    assert out["label"].tolist()[3] == ["none"]


@pytest.mark.parametrize(
    ("aggregation", "points", "weight"),
    [
        ("SUM", [5, 3, 6, None, 4, None], [0.5, 2.0, 1.5, None, None, None]),
        ("MIN", [1, 1, 2, None, 4, None], [0.5, 0.5, 1.5, None, None, None]),
        ("MAX", [4, 2, 4, None, 4, None], [0.5, 1.5, 1.5, None, None, None]),
        ("COUNT", [2, 2, 2, 0, 1, 0], [2, 2, 2, 0, 1, 0]),
    ],
)
def test_collect_aggregations(aggregation: str, points: list[Any], weight: list[Any]) -> None:
    out = build("COLLECT", ("points", "weight"), aggregation=aggregation).evaluate(FRAME)
    assert cells(out["points"]) == points
    assert cells(out["weight"]) == weight
    if aggregation == "COUNT":
        assert out["points"].dtype == np.int64


def test_aggregation_default_applies_to_unmatched_rows_only() -> None:
    table = build(
        "COLLECT", ("points", "weight"), aggregation="SUM", default={"points": -1, "weight": -1}
    )
    out = table.evaluate(FRAME)
    assert out["points"].tolist() == [5, 3, 6, -1, 4, -1]
    assert cells(out["weight"]) == [0.5, 2.0, 1.5, -1.0, None, -1.0]  # row 4 matched a null


def test_count_works_on_string_outputs() -> None:
    out = build("COLLECT", ("label",), aggregation="COUNT").evaluate(FRAME)
    assert out["label"].tolist() == [2, 2, 2, 0, 1, 0]


def test_unique_refuses_a_row_matching_two_rules() -> None:
    data = {
        "inputs": [{"name": "c", "type": "string", "categories": ["a", "b"]}],
        "outputs": [{"name": "y", "type": "integer"}],
        "rules": [
            {"when": {"c": "!= a"}, "then": {"y": 1}},
            {"when": {"c": "!= b"}, "then": {"y": 2}},
        ],
    }
    table = DecisionTable.from_dict(data)  # exclusive and complete over the declared categories
    assert table.evaluate(pd.DataFrame({"c": ["a", "b"]}))["y"].tolist() == [2, 1]
    with pytest.raises(InvalidInputError, match=r"row 1 matches rules 1, 2 \(rows 1\)") as caught:
        table.evaluate(pd.DataFrame({"c": ["a", "zzz"]}))
    assert "outside the declared inputs" in str(caught.value)


def test_nulls_match_only_any() -> None:
    data = {
        "hit_policy": "COLLECT",
        "inputs": [
            {"name": "x", "type": "double"},
            {"name": "c", "type": "string"},
            {"name": "f", "type": "boolean"},
        ],
        "outputs": [{"name": "y", "type": "integer"}],
        "rules": [
            {"when": {"x": "!= 5"}, "then": {"y": 1}},
            {"when": {"c": "not in [a]"}, "then": {"y": 2}},
            {"when": {"f": "!= true"}, "then": {"y": 3}},
            {"when": {"x": "-", "c": "-"}, "then": {"y": 4}},
        ],
    }
    frame = pd.DataFrame({"x": [None, 1.0], "c": [None, "b"], "f": [None, False]})
    out = DecisionTable.from_dict(data).evaluate(frame)
    assert out["y"].tolist() == [[4], [1, 2, 3, 4]]


def test_integer_and_datetime_inputs() -> None:
    data = {
        "hit_policy": "FIRST",
        "inputs": [{"name": "n", "type": "integer"}, {"name": "t", "type": "datetime"}],
        "outputs": [{"name": "y", "type": "string"}],
        "rules": [
            {"when": {"n": "(3..5)"}, "then": {"y": "four"}},
            {"when": {"t": ">= 2024-01-01"}, "then": {"y": "new"}},
            {"when": {"t": "[2023-01-01..2024-01-01)"}, "then": {"y": "last year"}},
        ],
    }
    table = DecisionTable.from_dict(data)
    frame = pd.DataFrame(
        {
            "n": [4, 3, 5, 0],
            "t": pd.to_datetime(pd.Series(["2000-01-01", "2024-01-01", "2023-06-30", None])),
        }
    )
    assert cells(table.evaluate(frame)["y"]) == ["four", "new", "last year", None]
    as_text = frame.assign(
        t=pd.Series(["2000-01-01", "2024-01-01T00:00:00+00:00", "2023-06-30", None], dtype=object)
    )
    assert cells(table.evaluate(as_text)["y"]) == ["four", "new", "last year", None]


def test_output_keeps_input_order_and_ignores_index_and_extra_columns() -> None:
    frame = FRAME.assign(extra=1).iloc[::-1].set_index(pd.Index(list("abcdef")))
    out = build("FIRST").evaluate(frame)
    assert isinstance(out.index, pd.RangeIndex)
    assert cells(out["label"]) == [None, "high", None, "mid", "low", "low"]


def test_empty_frame() -> None:
    out = build("FIRST").evaluate(FRAME.iloc[:0])
    assert list(out.columns) == ["label", "points", "weight"] and len(out) == 0


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": [1.0]}), "the input has no column 'c', which the rules test"),
        (pd.DataFrame({"x": ["high"], "c": ["a"]}), "input column 'x' must hold numbers"),
        (pd.DataFrame({"x": [True], "c": ["a"]}), "input column 'x' must hold numbers"),
        ([{"x": 1, "c": "a"}], "a decision table scores a pandas DataFrame, got list"),
    ],
)
def test_bad_input(frame: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build("FIRST").evaluate(frame)


def test_bad_datetime_input() -> None:
    data = {
        "hit_policy": "FIRST",
        "inputs": [{"name": "t", "type": "datetime"}],
        "outputs": [{"name": "y", "type": "integer"}],
        "rules": [{"when": {"t": "> 2024-01-01"}, "then": {"y": 1}}],
    }
    with pytest.raises(InvalidInputError, match="'t' must hold dates or datetimes"):
        DecisionTable.from_dict(data).evaluate(pd.DataFrame({"t": ["soon"]}))


def test_boolean_output_with_nulls() -> None:
    data = {
        "hit_policy": "FIRST",
        "inputs": [{"name": "x", "type": "double"}],
        "outputs": [{"name": "ok", "type": "boolean"}],
        "rules": [
            {"when": {"x": "> 0"}, "then": {"ok": True}},
            {"when": {"x": "< 0"}, "then": {"ok": "false"}},
        ],
    }
    out = DecisionTable.from_dict(data).evaluate(pd.DataFrame({"x": [1.0, -1.0, 0.0]}))
    assert cells(out["ok"]) == [True, False, None] and out["ok"].dtype == "boolean"


def test_a_hundred_thousand_rows_score_in_well_under_a_second() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    frame = pd.DataFrame({"x": rng.uniform(-10, 40, n), "c": rng.choice(["a", "b", "c"], n)})
    table = build("PRIORITY")
    start = time.perf_counter()
    out = table.evaluate(frame)
    assert time.perf_counter() - start < 1.0
    assert len(out) == n

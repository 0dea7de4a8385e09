"""The vectorised evaluator against a naive per-row reference, on random small tables."""

import math
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from modelward.runtimes.rules import DecisionTable

INPUTS = [
    {"name": "n", "type": "integer", "minimum": 0, "maximum": 20},
    {"name": "x", "type": "double"},
    {"name": "c", "type": "string", "categories": ["a", "b", "c"]},
    {"name": "f", "type": "boolean"},
]
NUMBERS = {"n": st.integers(0, 20), "x": st.sampled_from([-1.5, 0.0, 0.5, 1.0, 2.0, 3.5, 10.0])}
Test = tuple[Any, ...]  # (operator, operands...) — rendered to text, and evaluated directly


def numeric_tests(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Test]:
    compare = st.tuples(st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), values)
    ranges = st.tuples(st.just("range"), values, values, st.booleans(), st.booleans()).filter(
        lambda t: t[1] < t[2] or (t[1] == t[2] and t[3] and t[4])
    )
    member = st.tuples(
        st.sampled_from(["in", "not in", "list"]), st.lists(values, min_size=1, max_size=3)
    )
    return st.one_of(compare, ranges, member)


TESTS: dict[str, st.SearchStrategy[Test | None]] = {
    "n": st.none() | numeric_tests(NUMBERS["n"]),
    "x": st.none() | numeric_tests(NUMBERS["x"]),
    "c": st.none()
    | st.tuples(st.sampled_from(["=", "!="]), st.sampled_from("abc"))
    | st.tuples(
        st.sampled_from(["in", "not in", "list"]), st.lists(st.sampled_from("abc"), min_size=1)
    ),
    "f": st.none() | st.tuples(st.sampled_from(["=", "!="]), st.booleans()),
}


def render(test: Test) -> Any:
    op = test[0]
    if op == "range":
        return f"{'[' if test[3] else '('}{test[1]}..{test[2]}{']' if test[4] else ')'}"
    if op == "list":
        return list(test[1])
    if op in ("in", "not in"):
        return f"{op} [{', '.join(map(str, test[1]))}]"
    value = str(test[1]).lower() if isinstance(test[1], bool) else test[1]
    return f"{op} {value}"


def holds(test: Test | None, value: Any) -> bool:
    """The meaning of a test, written out plainly for one value."""
    if test is None:
        return True
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    op = test[0]
    if op == "range":
        _, lo, hi, lo_closed, hi_closed = test
        return (lo <= value if lo_closed else lo < value) and (
            value <= hi if hi_closed else value < hi
        )
    if op in ("in", "list"):
        return value in test[1]
    if op == "not in":
        return value not in test[1]
    return {
        "<": value < test[1],
        "<=": value <= test[1],
        ">": value > test[1],
        ">=": value >= test[1],
        "=": value == test[1],
        "!=": value != test[1],
    }[op]


rules_strategy = st.lists(
    st.fixed_dictionaries({k: TESTS[k] for k in TESTS}), min_size=1, max_size=6
)
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "n": st.none() | NUMBERS["n"],
            "x": st.none() | NUMBERS["x"],
            "c": st.none() | st.sampled_from("abc"),
            "f": st.none() | st.booleans(),
        }
    ),
    min_size=1,
    max_size=25,
)


def table(rules: list[dict[str, Test | None]], policy: str) -> DecisionTable:
    return DecisionTable.from_dict(
        {
            "hit_policy": policy,
            "inputs": INPUTS,
            "outputs": [{"name": "rule", "type": "integer"}],
            "rules": [
                {
                    "when": {k: render(t) for k, t in tests.items() if t is not None},
                    "then": {"rule": i},
                }
                for i, tests in enumerate(rules, start=1)
            ],
        }
    )


def matching(rules: list[dict[str, Test | None]], row: dict[str, Any]) -> list[int]:
    return [
        i for i, tests in enumerate(rules, start=1) if all(holds(tests[k], row[k]) for k in tests)
    ]


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": pd.array([r["n"] for r in rows], dtype="Int64"),
            "x": [math.nan if r["x"] is None else r["x"] for r in rows],
            "c": [r["c"] for r in rows],
            "f": pd.array([r["f"] for r in rows], dtype="boolean"),
        }
    )


@settings(max_examples=200, deadline=None)
@given(rules=rules_strategy, rows=rows_strategy)
def test_first_equals_the_per_row_reference(
    rules: list[dict[str, Test | None]], rows: list[dict[str, Any]]
) -> None:
    out = table(rules, "FIRST").evaluate(frame(rows))
    expected = [next(iter(matching(rules, row)), None) for row in rows]
    assert [None if pd.isna(v) else v for v in out["rule"].tolist()] == expected


@settings(max_examples=100, deadline=None)
@given(rules=rules_strategy, rows=rows_strategy)
def test_collect_equals_the_per_row_reference(
    rules: list[dict[str, Test | None]], rows: list[dict[str, Any]]
) -> None:
    out = table(rules, "COLLECT").evaluate(frame(rows))
    expected = [matching(rules, row) or None for row in rows]
    assert out["rule"].tolist() == expected

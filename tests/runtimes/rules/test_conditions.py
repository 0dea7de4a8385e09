import math

import pytest

from modelward.runtimes.rules.conditions import (
    ConditionError,
    Interval,
    RangeCondition,
    SetCondition,
    format_value,
    parse_condition,
    timestamp_ns,
)
from modelward.signatures import ColumnSpec

INT = ColumnSpec("n", "integer")
DOUBLE = ColumnSpec("x", "double")
TEXT = ColumnSpec("s", "string")
CATEGORY = ColumnSpec("c", "string", categories=("a", "b", "c"))
FLAG = ColumnSpec("f", "boolean")
WHEN = ColumnSpec("t", "datetime")
INF = math.inf


def intervals(raw: object, spec: ColumnSpec = DOUBLE) -> tuple[Interval, ...]:
    condition = parse_condition(raw, spec)
    assert isinstance(condition, RangeCondition)
    return condition.intervals


@pytest.mark.parametrize("raw", ["-", " - "])
def test_dash_matches_anything(raw: str) -> None:
    assert parse_condition(raw, DOUBLE) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("< 5", Interval(-INF, 5, False, False)),
        ("<=5", Interval(-INF, 5, False, True)),
        ("> -2.5", Interval(-2.5, INF, False, False)),
        (">= 1e3", Interval(1000, INF, True, False)),
        ("[1..2]", Interval(1, 2, True, True)),
        ("(1..2)", Interval(1, 2, False, False)),
        ("[1..2)", Interval(1, 2, True, False)),
        ("(1 .. 2]", Interval(1, 2, False, True)),
        ("]1..2[", Interval(1, 2, False, False)),
        ("= 3", Interval(3, 3, True, True)),
        ("3", Interval(3, 3, True, True)),
        (3, Interval(3, 3, True, True)),
        (2.5, Interval(2.5, 2.5, True, True)),
    ],
)
def test_numeric_forms(raw: object, expected: Interval) -> None:
    assert intervals(raw) == (expected,)


def test_not_equal_and_not_in_are_complements() -> None:
    assert intervals("!= 3") == (Interval(-INF, 3, False, False), Interval(3, INF, False, False))
    assert intervals("not in [1, 3]") == (
        Interval(-INF, 1, False, False),
        Interval(1, 3, False, False),
        Interval(3, INF, False, False),
    )


def test_in_list_and_yaml_list_are_points() -> None:
    assert intervals("in [3, 1]") == (Interval(1, 1, True, True), Interval(3, 3, True, True))
    assert intervals([1, 3]) == intervals("in [1, 3]")


def test_integer_bounds_stay_exact() -> None:
    assert intervals("< 3.5", INT) == (Interval(-INF, 3.5, False, False),)
    assert intervals("(3..4)", INT) == (Interval(3, 4, False, False),)
    assert intervals("= 3.0", INT) == (Interval(3, 3, True, True),)


@pytest.mark.parametrize("raw", ["= 3.5", 3.5, "in [1, 2.5]"])
def test_integer_equality_with_a_fraction_is_refused(raw: object) -> None:
    with pytest.raises(ConditionError, match="not a whole number"):
        parse_condition(raw, INT)


def test_strings() -> None:
    assert parse_condition("employed", TEXT) == SetCondition(
        frozenset({"employed"}), False, "employed"
    )
    condition = parse_condition("not in [a, 'b, c', \"d\"]", TEXT)
    assert isinstance(condition, SetCondition)
    assert condition.values == {"a", "b, c", "d"} and condition.negated
    negated = parse_condition("!= a", TEXT)
    assert isinstance(negated, SetCondition) and negated.values == {"a"} and negated.negated
    quoted = parse_condition("'<5'", TEXT)
    assert isinstance(quoted, SetCondition) and quoted.values == {"<5"}
    listed = parse_condition(["x", "y"], TEXT)
    assert isinstance(listed, SetCondition) and listed.values == {"x", "y"}


def test_booleans() -> None:
    assert parse_condition(True, FLAG) == SetCondition(frozenset({True}), False, "True")
    condition = parse_condition("!= false", FLAG)
    assert isinstance(condition, SetCondition)
    assert condition.values == {False} and condition.negated
    listed = parse_condition("in [true, false]", FLAG)
    assert isinstance(listed, SetCondition) and listed.values == {True, False}


def test_datetimes_compare_as_nanoseconds() -> None:
    start = timestamp_ns("2024-01-01")
    assert intervals(">= 2024-01-01", WHEN) == (Interval(start, INF, True, False),)
    import datetime as dt

    assert intervals(dt.date(2024, 1, 1), WHEN) == (Interval(start, start, True, True),)
    assert timestamp_ns("2024-01-01T01:00:00+01:00") == start
    assert format_value(start, "datetime") == "2024-01-01"


@pytest.mark.parametrize(
    ("raw", "spec", "message"),
    [
        ("[1..5]", TEXT, "a range needs a numeric or datetime input, but 's' is string"),
        ("< 5", TEXT, "comparison '<' needs a numeric"),
        ("> true", FLAG, "needs a numeric or datetime input"),
        ("[5..1]", DOUBLE, "is empty"),
        ("(1..1)", DOUBLE, "is empty"),
        ("abc", DOUBLE, "expected a number, got 'abc'"),
        (True, DOUBLE, "expected a number, got True"),
        ("< inf", DOUBLE, "not a finite number"),
        (5, TEXT, "expected a string, got 5; quote it"),
        (False, TEXT, "expected a string, got False"),
        ("d", CATEGORY, "'d' is not one of the declared categories (a, b, c)"),
        ("in [a, z]", CATEGORY, "'z' is not one of the declared categories"),
        (1, FLAG, "expected true or false"),
        ("yesterday", WHEN, "not a date or datetime"),
        (None, DOUBLE, "null is not a condition"),
        ("", DOUBLE, "the condition is empty"),
        ([], DOUBLE, "an empty list matches nothing"),
        ("in []", DOUBLE, "lists no values"),
        ({"a": 1}, DOUBLE, "expected a number"),
    ],
)
def test_bad_conditions_say_what_is_wrong(raw: object, spec: ColumnSpec, message: str) -> None:
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_condition(raw, spec)


def test_interval_contains() -> None:
    half_open = Interval(1, 2, True, False)
    assert half_open.contains(1) and half_open.contains(1.5)
    assert not half_open.contains(2) and not half_open.contains(0.5)

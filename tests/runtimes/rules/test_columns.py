from typing import Any

import pytest

from modelward.runtimes.rules.columns import (
    INPUT_TYPES,
    output_value,
    parse_columns,
    parse_priorities,
)
from modelward.signatures import ColumnSpec

LIMIT = ColumnSpec("limit", "double", minimum=0, maximum=100)
COUNT = ColumnSpec("count", "integer")
FLAG = ColumnSpec("ok", "boolean")
DECISION = ColumnSpec("decision", "string", categories=("yes", "no"))


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (5, LIMIT, 5.0),
        ("7.5", LIMIT, 7.5),
        (3.0, COUNT, 3),
        ("12", COUNT, 12),
        (True, FLAG, True),
        ("False", FLAG, False),
        ("yes", DECISION, "yes"),
        (None, LIMIT, None),
    ],
)
def test_output_values_are_converted(value: Any, spec: ColumnSpec, expected: Any) -> None:
    out: list[str] = []
    result = output_value(value, spec, "rule 1", out, nullable=True)
    assert out == [] and result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "spec", "message"),
    [
        (-1, LIMIT, "rule 1: -1 is below the output's minimum 0"),
        (101, LIMIT, "rule 1: 101 is above the output's maximum 100"),
        ("lots", LIMIT, "rule 1: expected a number, got 'lots' for a double output"),
        (True, LIMIT, "rule 1: expected a number, got True for a double output"),
        (2.5, COUNT, "rule 1: 2.5 is not a whole number, but the output is integer"),
        (1, FLAG, "rule 1: expected true or false, got 1"),
        (False, DECISION, "rule 1: expected a string, got False; quote it in the YAML"),
        ("maybe", DECISION, "rule 1: 'maybe' is not one of the declared categories (yes, no)"),
        (None, DECISION, "rule 1: null is not allowed here"),
    ],
)
def test_bad_output_values_are_named(value: Any, spec: ColumnSpec, message: str) -> None:
    out: list[str] = []
    output_value(value, spec, "rule 1", out)
    assert out == [message]


def test_columns_become_specs() -> None:
    out: list[str] = []
    raw = [
        {"name": "score", "type": "integer", "minimum": 300, "maximum": 850, "pii": False},
        {"name": "job", "type": "string", "categories": ["a"], "nullable": False},
    ]
    specs = parse_columns(raw, "input", INPUT_TYPES, out)
    assert out == []
    assert specs[0] == ColumnSpec("score", "integer", minimum=300, maximum=850)
    assert specs[1].categories == ("a",) and not specs[1].nullable


def test_priority_must_only_appear_on_outputs() -> None:
    out: list[str] = []
    parse_columns([{"name": "a", "type": "string", "priority": ["x"]}], "input", INPUT_TYPES, out)
    assert out and "unknown key 'priority'" in out[0]


def test_priority_values_are_typed() -> None:
    out: list[str] = []
    raw = [{"name": "count", "type": "integer", "priority": [3, "2", 1.0]}]
    assert parse_priorities(raw, (COUNT,), out) == {"count": (3, 2, 1)}
    parse_priorities([{"name": "count", "priority": ["x"]}], (COUNT,), out)
    assert "output 'count': priority: expected a number, got 'x'" in out[0]

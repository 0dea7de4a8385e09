import re
import time
from typing import Any

import pytest

from modelward.errors import InvalidModelError
from modelward.runtimes.rules import DecisionTable, check
from modelward.runtimes.rules.check import analyse

OUT = [{"name": "y", "type": "integer"}]


def unique(
    inputs: list[dict[str, Any]], whens: list[dict[str, Any]], **extra: Any
) -> DecisionTable:
    rules = [{"when": w, "then": {"y": i}} for i, w in enumerate(whens, start=1)]
    return DecisionTable.from_dict({"inputs": inputs, "outputs": OUT, "rules": rules, **extra})


def problems(inputs: list[dict[str, Any]], whens: list[dict[str, Any]], **extra: Any) -> str:
    with pytest.raises(InvalidModelError) as caught:
        unique(inputs, whens, **extra)
    return str(caught.value)


X = [{"name": "x", "type": "double"}]
N = [{"name": "n", "type": "integer"}]
SCORE = [{"name": "score", "type": "integer", "minimum": 300, "maximum": 850}]


def test_a_complete_exclusive_table_passes() -> None:
    table = unique(X, [{"x": "< 0"}, {"x": "[0..10]"}, {"x": "> 10"}])
    found = analyse(table)
    assert found.gaps == 0 and not found.overlaps


def test_overlap_names_the_rules_and_the_region() -> None:
    message = problems(X, [{"x": "< 10"}, {"x": "> 5"}])
    assert "1 overlap" in message
    assert "rules 1 and 2 both match where x in (5, 10)" in message
    assert "use hit_policy FIRST or PRIORITY" in message


def test_three_rules_overlapping_are_reported_in_pairs() -> None:
    message = problems(X, [{"x": "<= 1"}, {"x": "<= 2"}, {}])
    assert "3 overlaps" in message
    assert "rules 1 and 2 both match where x <= 1" in message
    assert "rules 1 and 3 both match where x <= 1" in message
    assert "rules 2 and 3 both match where x <= 1" in message


def test_gap_names_the_region() -> None:
    message = problems(X, [{"x": "< 5"}, {"x": "> 5"}])
    assert "1 gap" in message and "no rule matches x = 5" in message
    assert "or a 'default' output" in message


def test_integer_domain_has_nothing_between_neighbours() -> None:
    unique(N, [{"n": "<= 3"}, {"n": ">= 4"}])  # no gap: no integer lies in (3, 4)
    unique(N, [{"n": "< 4"}, {"n": "> 3"}])  # no overlap: no integer lies in (3, 4)
    unique(N, [{"n": "< 0"}, {"n": "(-1..1)"}, {"n": "(0.5..1.5)"}, {"n": ">= 2"}])
    assert "no rule matches x in (3, 4)" in problems(X, [{"x": "<= 3"}, {"x": ">= 4"}])
    assert "rules 1 and 2 both match where x in (3, 4)" in problems(X, [{"x": "< 4"}, {"x": "> 3"}])


def test_integer_gaps_read_as_closed_ranges() -> None:
    message = problems(N, [{"n": "< 0"}, {"n": "> 10"}])
    assert "no rule matches n in [0, 10]" in message


def test_declared_minimum_and_maximum_bound_the_domain() -> None:
    unique(SCORE, [{"score": "< 500"}, {"score": ">= 500"}])
    unique(SCORE, [{"score": "<= 500"}, {"score": "[501..850]"}])
    message = problems(SCORE, [{"score": "(300..500)"}, {"score": ">= 500"}])
    assert "no rule matches score = 300" in message


def test_gap_in_a_combination_of_inputs_only() -> None:
    inputs: list[dict[str, Any]] = [
        {"name": "member", "type": "boolean"},
        {"name": "tier", "type": "string", "categories": ["gold", "silver", "bronze"]},
        {"name": "age", "type": "integer", "minimum": 0, "maximum": 120},
    ]
    whens = [
        {"member": True, "age": "< 18"},
        {"member": True, "age": ">= 18"},
        {"member": False, "tier": "in [gold, silver]"},
        {"member": False, "tier": "bronze", "age": ">= 65"},
    ]
    message = problems(inputs, whens)
    assert "but it has 1 gap:" in message and "match where" not in message
    assert "no rule matches member = false, tier = bronze, age in [0, 64]" in message


def test_two_numeric_inputs_gap_in_one_quadrant() -> None:
    inputs = [{"name": "a", "type": "double"}, {"name": "b", "type": "double"}]
    whens = [{"a": "< 0"}, {"a": ">= 0", "b": "< 0"}]
    assert "no rule matches a >= 0, b >= 0" in problems(inputs, whens)


def test_strings_without_categories_have_other_values() -> None:
    s = [{"name": "s", "type": "string"}]
    message = problems(s, [{"s": "a"}, {"s": "b"}])
    assert "no rule matches s not in [a, b]" in message
    unique(s, [{"s": "a"}, {"s": "!= a"}])
    unique([{"name": "s", "type": "string", "categories": ["a", "b"]}], [{"s": "a"}, {"s": "b"}])


def test_booleans_have_two_values() -> None:
    flag = [{"name": "f", "type": "boolean"}]
    unique(flag, [{"f": True}, {"f": False}])
    assert "no rule matches f = false" in problems(flag, [{"f": True}])


def test_datetimes() -> None:
    when = [{"name": "t", "type": "datetime"}]
    unique(when, [{"t": "< 2024-01-01"}, {"t": ">= 2024-01-01"}])
    message = problems(when, [{"t": "< 2024-01-01"}, {"t": "> 2024-01-01"}])
    assert "no rule matches t = 2024-01-01" in message


def test_a_default_covers_gaps_but_not_overlaps() -> None:
    unique(X, [{"x": "< 5"}, {"x": "> 5"}], default={"y": 0})
    message = problems(X, [{"x": "< 6"}, {"x": "> 5"}], default={"y": 0})
    assert "1 overlap" in message and "gap" not in message


def test_overlaps_and_gaps_reported_together() -> None:
    inputs = [{"name": "a", "type": "double"}, {"name": "b", "type": "boolean"}]
    message = problems(inputs, [{"a": "< 1"}, {"a": "< 2", "b": True}])
    assert "1 overlap and 2 gaps" in message
    assert "rules 1 and 2 both match where a < 1, b = true" in message
    assert "no rule matches a in [1, 2), b = false" in message
    assert "no rule matches a >= 2, b any" in message


def test_many_problems_are_capped_with_a_count() -> None:
    cats = [f"c{i}" for i in range(12)]
    inputs: list[dict[str, Any]] = [
        {"name": "c", "type": "string", "categories": cats},
        {"name": "n", "type": "integer"},
    ]
    whens = [{"c": c, "n": f"!= {i}"} for i, c in enumerate(cats)]
    message = problems(inputs, whens)
    assert "12 gaps" in message
    assert len(re.findall("no rule matches", message)) == 10
    assert "… and 2 more" in message
    assert "no rule matches c = c3, n = 3" in message

    doubled = [w for c in cats for w in ({"c": c}, {"c": c})]
    message = problems(inputs, doubled)
    assert "12 overlaps" in message and "… and 2 more" in message
    assert "rules 23 and 24 both match" not in message  # only the first ten are listed
    assert "rules 1 and 2 both match where c = c0, n any" in message


def test_an_overlap_in_several_regions_is_reported_once() -> None:
    inputs = [{"name": "a", "type": "double"}, {"name": "b", "type": "boolean"}]
    message = problems(inputs, [{}, {"a": "!= 0", "b": True}, {"a": "= 5", "b": False}])
    assert "rules 1 and 2 both match where a < 0 or in (0, 5) or > 5, b = true" in message
    assert "(and in 1 more region)" in message
    assert "rules 1 and 3 both match where a = 5, b = false" in message


def test_rule_numbers_count_from_one_in_file_order() -> None:
    message = problems(X, [{"x": "< 0"}, {"x": ">= 0"}, {"x": "= 3"}])
    assert "rules 2 and 3 both match where x = 3" in message


def test_a_table_full_of_overlaps_is_reported_quickly() -> None:
    inputs = [{"name": f"x{i}", "type": "integer", "minimum": 0, "maximum": 99} for i in range(6)]
    whens = [
        {f"x{i}": f"[{(r * 7 + i * 13) % 80}..{(r * 7 + i * 13) % 80 + 20}]" for i in range(6)}
        for r in range(100)
    ]
    start = time.perf_counter()
    message = problems(inputs, whens)
    assert time.perf_counter() - start < 5
    assert re.search(r"at least 1\d\d overlaps", message)


def test_a_table_too_large_to_check_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "MAX_REGIONS", 5)
    message = problems(N, [{"n": f"= {i}"} for i in range(10)])
    assert "too large to check for overlaps and gaps" in message
    assert "use hit_policy FIRST or PRIORITY, or split the table" in message


def test_an_analysis_of_many_rules_stays_fast() -> None:
    inputs = [{"name": f"x{i}", "type": "integer", "minimum": 0, "maximum": 99} for i in range(4)]
    whens = [
        {f"x{i}": f"[{lo}..{lo + 9}]" for i in range(4)} for lo in range(0, 100, 10)
    ]  # a diagonal: many gaps, no overlaps
    table = unique(inputs, whens, default={"y": 0})
    assert analyse(table).gaps > 0

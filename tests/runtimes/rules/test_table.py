import copy
from pathlib import Path
from typing import Any

import pytest

from modelward.errors import InvalidModelError
from modelward.runtimes.rules import DecisionTable

BASE: dict[str, Any] = {
    "name": "credit",
    "hit_policy": "FIRST",
    "inputs": [
        {"name": "income", "type": "double", "minimum": 0},
        {"name": "score", "type": "integer", "minimum": 300, "maximum": 850},
        {"name": "employment", "type": "string", "categories": ["employed", "unemployed"]},
    ],
    "outputs": [
        {"name": "decision", "type": "string", "priority": ["reject", "review", "approve"]},
        {"name": "limit", "type": "double"},
    ],
    "rules": [
        {"when": {"score": "< 500"}, "then": {"decision": "reject", "limit": 0}},
        {"when": {"income": ">= 30000"}, "then": {"decision": "approve", "limit": 5000}},
    ],
}


def table(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def refused(data: Any) -> str:
    with pytest.raises(InvalidModelError) as caught:
        DecisionTable.from_dict(data)
    return str(caught.value)


def test_a_valid_table_parses() -> None:
    parsed = DecisionTable.from_dict(table())
    assert parsed.hit_policy == "FIRST" and parsed.name == "credit"
    assert [r.number for r in parsed.rules] == [1, 2]
    assert set(parsed.rules[0].conditions) == {"score"}
    assert parsed.rules[1].outputs == {"decision": "approve", "limit": 5000.0}
    assert parsed.priorities == {"decision": ("reject", "review", "approve")}
    assert parsed.source == table()


def test_hit_policy_defaults_to_unique_and_ignores_case() -> None:
    data = table(rules=[{"when": {}, "then": {"decision": "review", "limit": 0}}])
    del data["hit_policy"]
    assert DecisionTable.from_dict(data).hit_policy == "UNIQUE"
    assert DecisionTable.from_dict(table(hit_policy="first")).hit_policy == "FIRST"


def test_signature_is_the_tables_own() -> None:
    signature = DecisionTable.from_dict(table()).signature
    assert signature.input_names == ["income", "score", "employment"]
    assert signature.inputs[1].minimum == 300 and signature.inputs[2].categories == (
        "employed",
        "unemployed",
    )
    assert [(c.name, c.type) for c in signature.outputs] == [
        ("decision", "string"),
        ("limit", "double"),
    ]


def test_count_and_list_signatures() -> None:
    count = DecisionTable.from_dict(table(hit_policy="COLLECT", aggregation="COUNT")).signature
    assert {c.type for c in count.outputs} == {"long"}
    listed = DecisionTable.from_dict(table(hit_policy="COLLECT")).signature
    assert listed.outputs[0].description is not None and "list of" in listed.outputs[0].description


def test_not_a_mapping() -> None:
    assert "must be a mapping with 'inputs', 'outputs' and 'rules', got list" in refused([1, 2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hitpolicy": "FIRST"}, "the table has an unknown key 'hitpolicy'; allowed keys: name,"),
        ({"hit_policy": "ANY"}, "unknown hit_policy 'ANY'; use one of: UNIQUE, FIRST, PRIORITY"),
        ({"hit_policy": "COLLECT", "aggregation": "AVG"}, "unknown aggregation 'AVG'"),
        ({"aggregation": "SUM"}, "aggregation SUM only applies to hit_policy COLLECT"),
        (
            {"hit_policy": "COLLECT", "aggregation": "SUM"},
            "aggregation SUM needs numeric outputs, but 'decision' is string",
        ),
        (
            {"hit_policy": "COLLECT", "aggregation": "COUNT", "default": {"decision": "x"}},
            "a default does not apply",
        ),
        ({"rules": []}, "'rules' must be a non-empty list"),
        ({"rules": None}, "'rules' must be a non-empty list"),
        ({"inputs": []}, "'inputs' must be a non-empty list of columns"),
        ({"name": 3}, "'name' must be text"),
    ],
)
def test_table_level_problems(change: dict[str, Any], message: str) -> None:
    assert message in refused(table(**change))


def test_missing_sections() -> None:
    data = table()
    del data["outputs"]
    assert "the table has no 'outputs' list" in refused(data)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (
            {"name": "a", "type": "double", "minimun": 0},
            "input 4 ('a') has an unknown key 'minimun'",
        ),
        ({"name": "a", "type": "binary"}, "input 4 ('a') has type 'binary'; inputs may be:"),
        ({"name": "a"}, "input 4 ('a') has no 'type'"),
        ({"name": "a", "type": "integer", "categories": [1, 2]}, "categories only apply to string"),
        (
            {"name": "a", "type": "string", "categories": "abc"},
            "categories must be a non-empty list",
        ),
        ({"name": "a", "type": "double", "minimum": "zero"}, "minimum must be a number"),
        ({"name": "a", "type": "double", "minimum": 5, "maximum": 1}, "minimum 5 is greater"),
        ({"name": "a", "type": "double", "nullable": "no"}, "nullable must be true or false"),
        ({"name": "income", "type": "double"}, "input 'income' is declared twice"),
        ("income", "input 4 must be a mapping like {name: x, type: double}"),
    ],
)
def test_input_problems(column: Any, message: str) -> None:
    data = table()
    data["inputs"].append(column)
    assert message in refused(data)


def test_output_problems() -> None:
    data = table()
    data["outputs"].append({"name": "note", "type": "datetime", "priority": ["x"], "unit": "s"})
    message = refused(data)
    assert "output 3 ('note') has an unknown key 'unit'" in message
    assert "outputs may be: boolean, integer, long, float, double, string" in message


def test_rule_problems_name_the_rule() -> None:
    data = table()
    data["rules"] += [
        {"whem": {"score": "< 400"}, "then": {"decision": "reject", "limit": 0}},
        {"when": {"age": "< 18"}, "then": {"decision": "reject", "limit": 0}},
        {"when": {"employment": "[1..2]"}, "then": {"decision": "reject", "limit": 0}},
        {"when": {"score": "< 500"}, "then": {"decision": "reject", "limit": 0, "rate": 1}},
        {"when": {"score": "< 500"}, "then": {"decision": "reject"}},
        {"when": {"score": "< 500"}, "then": {"decision": 5, "limit": "lots"}},
        {"when": {"score": "< 500"}},
        "reject everything",
        {"when": "score < 500", "then": {"decision": "reject", "limit": 0}},
        {"when": {"score": "<< 5"}, "then": {"decision": "reject", "limit": 0}},
    ]
    message = refused(data)
    assert "is invalid (11 problems)" in message
    assert "decision table 'credit'" in message
    assert "rule 3 has an unknown key 'whem'; allowed keys: when, then, description" in message
    assert "rule 4 tests 'age', which is not a declared input; declared: income," in message
    assert "rule 5, input 'employment': a range needs a numeric or datetime input" in message
    assert (
        "rule 6 sets 'rate', which is not a declared output; declared: decision, limit" in message
    )
    assert "rule 7 gives no value for 'limit'; use null for none" in message
    assert "rule 8, output 'decision': expected a string, got 5; quote it" in message
    assert "… and 1 more" in message  # past the first ten


def test_later_rule_problems_are_listed_too() -> None:
    data = table()
    data["rules"] += [
        {"when": {"score": "< 500"}, "then": {"decision": 5, "limit": "lots"}},
        {"when": {"score": "< 500"}},
        "reject everything",
        {"when": "score < 500", "then": {"decision": "reject", "limit": 0}},
    ]
    message = refused(data)
    assert "rule 3, output 'limit': expected a number, got 'lots' for a double output" in message
    assert "rule 4 has no 'then' giving its outputs" in message
    assert "rule 5 must be a mapping with 'when' and 'then'" in message
    assert "rule 6: 'when' must map input names to conditions" in message


def test_priority_problems() -> None:
    data = table(hit_policy="PRIORITY")
    del data["outputs"][0]["priority"]
    assert "hit_policy PRIORITY needs a 'priority' list on an output" in refused(data)
    data = table(hit_policy="PRIORITY")
    data["outputs"][0]["priority"] = ["reject", "review"]
    message = refused(data)
    assert "rule 2 gives decision='approve', which is not in the priority list" in message
    data["outputs"][0]["priority"] = ["reject", "reject", "approve"]
    assert "priority lists a value twice" in refused(data)
    data["outputs"][0]["priority"] = "reject"
    assert "must be a non-empty list of values, highest priority first" in refused(data)


def test_default_is_checked_like_a_rule() -> None:
    message = refused(table(default={"decision": "review", "limit": "none", "x": 1}))
    assert "the default, output 'limit': expected a number, got 'none'" in message
    assert "the default sets 'x', which is not a declared output" in message


def test_from_yaml(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(table()))
    assert DecisionTable.from_yaml(path).name == "credit"
    path.write_text("inputs: [\n")
    with pytest.raises(InvalidModelError, match=r"t\.yaml is not valid YAML"):
        DecisionTable.from_yaml(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(InvalidModelError, match=r"t\.yaml must be a mapping"):
        DecisionTable.from_yaml(path)
    with pytest.raises(InvalidModelError, match=r"cannot read missing\.yaml"):
        DecisionTable.from_yaml(tmp_path / "missing.yaml")


def test_every_key_policy_and_aggregation_is_documented() -> None:
    from modelward.runtimes.rules.table import _TOP_KEYS, AGGREGATIONS, HIT_POLICIES

    docs = Path(__file__).parents[3] / "docs" / "flavors" / "rules.md"
    text = docs.read_text(encoding="utf-8")
    for word in (*_TOP_KEYS, *HIT_POLICIES, *AGGREGATIONS, "priority", "when", "then"):
        assert f"`{word}`" in text, f"{word} is not documented in {docs.name}"

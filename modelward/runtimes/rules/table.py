"""Decision tables: read from YAML or a dict, checked as a whole, kept as typed rules.

Every structural problem (unknown keys, undeclared inputs, mistyped cells) is collected and
reported in one :class:`~modelward.errors.InvalidModelError`; a UNIQUE table is then checked
for overlapping rules and uncovered inputs (see :mod:`.check`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from modelward.errors import InvalidModelError
from modelward.runtimes.rules.check import check_unique
from modelward.runtimes.rules.columns import (
    INPUT_TYPES,
    OUTPUT_TYPES,
    output_value,
    parse_columns,
    parse_priorities,
)
from modelward.runtimes.rules.conditions import Condition, ConditionError, parse_condition
from modelward.runtimes.rules.problems import problem_list, unknown_keys
from modelward.signatures import NUMERIC_TYPES, ColumnSpec, Signature

if TYPE_CHECKING:
    import pandas as pd

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "COLLECT")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
DOCS_HINT = "docs/flavors/rules.md describes the decision-table format"

_TOP_KEYS = (
    "name",
    "description",
    "hit_policy",
    "aggregation",
    "inputs",
    "outputs",
    "rules",
    "default",
)
_RULE_KEYS = ("when", "then", "description")


@dataclass(frozen=True)
class Rule:
    """One row of the table: conditions on some inputs (the rest match anything), then outputs."""

    number: int
    conditions: Mapping[str, Condition]
    outputs: Mapping[str, Any]
    description: str | None = None


@dataclass(frozen=True)
class DecisionTable:
    """A validated decision table; build one with :meth:`from_dict` or :meth:`from_yaml`."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...]
    rules: tuple[Rule, ...]
    hit_policy: str = "UNIQUE"
    aggregation: str | None = None
    default: Mapping[str, Any] | None = None
    priorities: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    name: str | None = None
    description: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any) -> DecisionTable:
        """Parse and validate a table given as a mapping in the YAML format."""
        return parse_table(data)

    @classmethod
    def from_yaml(cls, path: Path | str) -> DecisionTable:
        """Read, parse and validate the YAML file at ``path``."""
        return parse_table(read_yaml(Path(path)), file=Path(path).name)

    @property
    def label(self) -> str:
        """How messages name this table."""
        return f"decision table {self.name!r}" if self.name else "the decision table"

    @property
    def signature(self) -> Signature:
        """The inputs the rules read and the columns :func:`evaluate` returns."""
        outputs = self.outputs
        if self.aggregation == "COUNT":
            outputs = tuple(
                ColumnSpec(c.name, "long", nullable=False, minimum=0, description="matched rules")
                for c in outputs
            )
        elif self.hit_policy == "COLLECT" and self.aggregation is None:
            outputs = tuple(
                replace(c, categories=None, minimum=None, maximum=None, description=_list_of(c))
                for c in outputs
            )
        return Signature(self.inputs, outputs)

    def evaluate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Apply the table to every row of ``frame``; one output row per input row."""
        from modelward.runtimes.rules.evaluate import evaluate

        return evaluate(self, frame)


def _list_of(column: ColumnSpec) -> str:
    return f"list of the {column.type} values of every matching rule, in rule order"


def read_yaml(path: Path) -> Any:
    """The parsed content of a YAML file, with YAML errors reported as invalid models."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidModelError(f"cannot read {path.name}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidModelError(
            f"{path.name} is not valid YAML: {exc}", hint="fix the YAML syntax at the line shown"
        ) from exc


def parse_table(data: Any, *, file: str | None = None) -> DecisionTable:
    """A validated :class:`DecisionTable` from its mapping form; every problem in one error."""
    label = file or "the decision table"
    if isinstance(data, Mapping) and isinstance(data.get("name"), str):
        label = f"decision table {data['name']!r}" + (f" ({file})" if file else "")
    if not isinstance(data, Mapping):
        raise InvalidModelError(
            f"{label} must be a mapping with 'inputs', 'outputs' and 'rules', "
            f"got {type(data).__name__}",
            hint=DOCS_HINT,
        )
    problems: list[str] = []
    unknown_keys(data, _TOP_KEYS, "the table", problems)
    for key in ("inputs", "outputs", "rules"):
        if key not in data:
            problems.append(f"the table has no {key!r} list")
    name = _optional_text(data, "name", "the table", problems)
    description = _optional_text(data, "description", "the table", problems)
    policy = _choice(data.get("hit_policy", "UNIQUE"), HIT_POLICIES, "hit_policy", problems)
    aggregation = None
    if data.get("aggregation") is not None:
        aggregation = _choice(data["aggregation"], AGGREGATIONS, "aggregation", problems)
    before = len(problems)
    inputs = parse_columns(data.get("inputs"), "input", INPUT_TYPES, problems)
    outputs = parse_columns(data.get("outputs"), "output", OUTPUT_TYPES, problems)
    priorities = parse_priorities(data.get("outputs"), outputs, problems)
    if len(problems) > before or not (inputs and outputs and "rules" in data):
        raise _invalid(label, problems)  # rules can only be checked against sound columns
    by_input = {c.name: c for c in inputs}
    by_output = {c.name: c for c in outputs}
    rules = _rules(data["rules"], by_input, by_output, problems)
    default = None
    if data.get("default") is not None:
        default = _outputs(data["default"], by_output, "the default", problems)
    _policy_checks(policy, aggregation, outputs, priorities, rules, default, problems)
    if problems:
        raise _invalid(label, problems)
    table = DecisionTable(
        inputs=inputs,
        outputs=outputs,
        rules=tuple(rules),
        hit_policy=policy or "UNIQUE",
        aggregation=aggregation,
        default=default,
        priorities=priorities,
        name=name,
        description=description,
        source=copy.deepcopy(dict(data)),
    )
    if table.hit_policy == "UNIQUE":
        check_unique(table)
    return table


def _invalid(label: str, problems: list[str]) -> InvalidModelError:
    if len(problems) == 1:
        return InvalidModelError(f"{label} is invalid: {problems[0]}", hint=DOCS_HINT)
    return InvalidModelError(
        f"{label} is invalid ({len(problems)} problems):{problem_list(problems)}", hint=DOCS_HINT
    )


def _optional_text(data: Mapping[str, Any], key: str, where: str, out: list[str]) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        out.append(f"{where}: {key!r} must be text, got {value!r}")
        return None
    return value


def _choice(value: Any, allowed: tuple[str, ...], key: str, out: list[str]) -> str | None:
    if isinstance(value, str) and value.upper() in allowed:
        return value.upper()
    out.append(f"unknown {key} {value!r}; use one of: {', '.join(allowed)}")
    return None


def _rules(
    raw: Any, inputs: dict[str, ColumnSpec], outputs: dict[str, ColumnSpec], out: list[str]
) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        out.append(f"'rules' must be a non-empty list of {{when: ..., then: ...}}, got {raw!r}")
        return []
    rules = []
    for number, item in enumerate(raw, start=1):
        where = f"rule {number}"
        if not isinstance(item, Mapping):
            out.append(f"{where} must be a mapping with 'when' and 'then', got {item!r}")
            continue
        unknown_keys(item, _RULE_KEYS, where, out)
        when = item.get("when") or {}
        conditions: dict[str, Condition] = {}
        if not isinstance(when, Mapping):
            out.append(f"{where}: 'when' must map input names to conditions, got {when!r}")
            when = {}
        for name, cell in when.items():
            if name not in inputs:
                out.append(
                    f"{where} tests {name!r}, which is not a declared input; {_known(inputs)}"
                )
                continue
            try:
                condition = parse_condition(cell, inputs[name])
            except ConditionError as exc:
                out.append(f"{where}, input {name!r}: {exc}")
                continue
            if condition is not None:
                conditions[name] = condition
        if "then" not in item:
            out.append(f"{where} has no 'then' giving its outputs")
            continue
        values = _outputs(item["then"], outputs, where, out)
        rules.append(Rule(number, conditions, values, _text(item.get("description"))))
    return rules


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _known(columns: Mapping[str, ColumnSpec]) -> str:
    return f"declared: {', '.join(columns)}"


def _outputs(
    raw: Any, outputs: dict[str, ColumnSpec], where: str, out: list[str]
) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        out.append(f"{where}: outputs must map output names to values, got {raw!r}")
        return {}
    for name in raw:
        if name not in outputs:
            out.append(f"{where} sets {name!r}, which is not a declared output; {_known(outputs)}")
    missing = [n for n in outputs if n not in raw]
    if missing:
        out.append(f"{where} gives no value for {', '.join(map(repr, missing))}; use null for none")
    return {
        name: output_value(raw[name], spec, f"{where}, output {name!r}", out, nullable=True)
        for name, spec in outputs.items()
        if name in raw
    }


def _policy_checks(
    policy: str | None,
    aggregation: str | None,
    outputs: tuple[ColumnSpec, ...],
    priorities: Mapping[str, tuple[Any, ...]],
    rules: list[Rule],
    default: Mapping[str, Any] | None,
    out: list[str],
) -> None:
    if aggregation is not None and policy != "COLLECT":
        out.append(f"aggregation {aggregation} only applies to hit_policy COLLECT; remove it")
    if policy == "COLLECT" and aggregation in ("SUM", "MIN", "MAX"):
        for column in outputs:
            if column.type not in NUMERIC_TYPES:
                out.append(
                    f"aggregation {aggregation} needs numeric outputs, but {column.name!r} is "
                    f"{column.type}; use COUNT, no aggregation, or another hit policy"
                )
    if aggregation == "COUNT" and default is not None:
        out.append("COUNT gives 0 when no rule matches, so a default does not apply; remove it")
    if policy == "PRIORITY" and not priorities:
        out.append(
            "hit_policy PRIORITY needs a 'priority' list on an output: its values, highest first"
        )
    for name, ranked in priorities.items() if policy == "PRIORITY" else ():
        for rule in rules:
            value = rule.outputs.get(name)
            if name in rule.outputs and value not in ranked:
                out.append(
                    f"rule {rule.number} gives {name}={value!r}, which is not in the priority "
                    f"list of {name!r} ({', '.join(map(str, ranked))}); add it to the list"
                )

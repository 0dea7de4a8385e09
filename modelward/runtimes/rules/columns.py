"""Column declarations of a decision table (inputs, outputs, priority lists) and output values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelward.errors import InvalidSignatureError
from modelward.runtimes.rules.conditions import ConditionError, to_number
from modelward.runtimes.rules.problems import unknown_keys
from modelward.signatures import ColumnSpec

INPUT_TYPES = ("boolean", "integer", "long", "float", "double", "string", "datetime")
OUTPUT_TYPES = ("boolean", "integer", "long", "float", "double", "string")
_COLUMN_KEYS: tuple[str, ...] = ("name", "type", "description", "nullable", "minimum", "maximum")
_COLUMN_KEYS += ("categories", "pii")


def parse_columns(
    raw: Any, kind: str, types: tuple[str, ...], out: list[str]
) -> tuple[ColumnSpec, ...]:
    """The ``inputs`` or ``outputs`` list as column specs; problems are appended to ``out``."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        out.append(f"'{kind}s' must be a non-empty list of columns, got {raw!r}")
        return ()
    columns: list[ColumnSpec] = []
    allowed = (*_COLUMN_KEYS, "priority") if kind == "output" else _COLUMN_KEYS
    for i, item in enumerate(raw, start=1):
        where = f"{kind} {i}" + (f" ({item.get('name')!r})" if isinstance(item, Mapping) else "")
        if not isinstance(item, Mapping):
            out.append(f"{where} must be a mapping like {{name: x, type: double}}, got {item!r}")
            continue
        before = len(out)
        unknown_keys(item, allowed, where, out)
        for key in ("name", "type"):
            if key not in item:
                out.append(f"{where} has no {key!r}")
        if "type" in item and item["type"] not in types:
            out.append(f"{where} has type {item['type']!r}; {kind}s may be: {', '.join(types)}")
        categories = item.get("categories")
        if categories is not None and item.get("type") != "string":
            out.append(f"{where}: categories only apply to string columns; use minimum/maximum")
        elif categories is not None and not _strings(categories):
            out.append(
                f"{where}: categories must be a non-empty list of strings, got {categories!r}"
            )
        if len(out) > before:
            continue
        try:
            spec = ColumnSpec.from_dict({k: v for k, v in item.items() if k != "priority"})
        except (InvalidSignatureError, TypeError) as exc:
            out.append(f"{where}: {exc}")
            continue
        out.extend(f"{where}: {p}" for p in _column_values(spec))
        columns.append(spec)
    names = [c.name for c in columns]
    out.extend(
        f"{kind} {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})
    )
    return tuple(columns)


def _column_values(spec: ColumnSpec) -> list[str]:
    problems = []
    for key in ("minimum", "maximum"):
        value = getattr(spec, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{key} must be a number, got {value!r}")
    for key in ("nullable", "pii"):
        if not isinstance(getattr(spec, key), bool):
            problems.append(f"{key} must be true or false, got {getattr(spec, key)!r}")
    return problems


def _strings(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)


def parse_priorities(
    raw: Any, outputs: tuple[ColumnSpec, ...], out: list[str]
) -> dict[str, tuple[Any, ...]]:
    """Each output's ``priority`` list (values highest first), checked against its type."""
    found: dict[str, tuple[Any, ...]] = {}
    items = [c for c in raw if isinstance(c, Mapping)] if isinstance(raw, list) else []
    by_name = {c.name: c for c in outputs}
    for item in items:
        if item.get("priority") is None or item.get("name") not in by_name:
            continue
        spec, where = by_name[item["name"]], f"output {item['name']!r}: priority"
        listed = item["priority"]
        if not isinstance(listed, list) or not listed:
            out.append(f"{where} must be a non-empty list of values, highest priority first")
            continue
        values = tuple(output_value(v, spec, where, out) for v in listed)
        if len(set(values)) < len(values):
            out.append(f"{where} lists a value twice")
        found[spec.name] = values
    return found


def output_value(
    value: Any, spec: ColumnSpec, where: str, out: list[str], *, nullable: bool = False
) -> Any:
    """``value`` as a value of output ``spec``; a problem is appended to ``out`` when it is not."""
    if value is None:
        if not nullable:
            out.append(f"{where}: null is not allowed here")
        return None
    kind = spec.type
    if kind == "string":
        if not isinstance(value, str):
            out.append(f"{where}: expected a string, got {value!r}; quote it in the YAML")
            return None
        if spec.categories is not None and value not in spec.categories:
            allowed = ", ".join(spec.categories)
            out.append(f"{where}: {value!r} is not one of the declared categories ({allowed})")
        return value
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            out.append(f"{where}: expected true or false, got {value!r}")
            return None
        return value
    try:
        number = to_number(value)
    except ConditionError as exc:
        out.append(f"{where}: {exc} for a {kind} output")
        return None
    if kind in ("integer", "long"):
        if not float(number).is_integer():
            out.append(f"{where}: {value!r} is not a whole number, but the output is {kind}")
            return None
        number = int(number)
    else:
        number = float(number)
    if spec.minimum is not None and number < spec.minimum:
        out.append(f"{where}: {value!r} is below the output's minimum {spec.minimum}")
    if spec.maximum is not None and number > spec.maximum:
        out.append(f"{where}: {value!r} is above the output's maximum {spec.maximum}")
    return number

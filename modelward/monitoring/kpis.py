"""Business KPIs: one SQL aggregate per KPI, evaluated per window over the labelled log.

A KPI is ``{"name": "approved_amount", "sql": "sum(case when output__approved = 1 then
input__amount else 0 end)", "target": 1e6, "direction": "higher"}``. Its expression runs over
the view ``labelled``: every log row of the model served in the window (any status), left-joined
to its label in force (``label``, ``label_time``, ``label_received_at``; null where none came).

The window is read first (skipping unreadable files), then the expressions run in a second
DuckDB connection that can read no file at all (external access off, configuration locked) and
sees only that window, so a KPI can neither read other data nor change anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from modelward.config import Settings
from modelward.errors import InvalidInputError
from modelward.monitoring.labels import window_table

VIEW = "labelled"
KPI_KEYS = ("name", "sql", "target", "direction")
DIRECTIONS = ("higher", "lower")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\- ]{0,63}$")
_STATEMENT = re.compile(
    r"^\s*\(*\s*(select|with|from|insert|update|delete|drop|create|alter|copy|attach|detach|"
    r"pragma|set|reset|install|load|call|export|import|vacuum|checkpoint|use)\b",
    re.IGNORECASE,
)
_HINT = "write one aggregate expression over the view's columns, e.g. avg(label) or count(*)"


@dataclass(frozen=True)
class KpiSpec:
    """A business KPI: a SQL aggregate expression and, optionally, the target it should meet."""

    name: str
    sql: str
    target: float | None = None
    direction: str = "higher"  # which way is better: the value should be >= target, or <=

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (what :func:`parse_kpis` reads back)."""
        return asdict(self)


@dataclass(frozen=True)
class KpiResult:
    """A KPI's value over one window; ``value`` is None when the window holds no rows or the
    aggregate is null, and ``met`` is None when there is no value or no target."""

    name: str
    value: float | None
    target: float | None
    direction: str
    met: bool | None
    rows: int = 0  # log rows in the window
    skipped_files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return asdict(self)


def parse_kpi(item: Any, *, where: str = "KPI") -> KpiSpec:
    """One KPI from a mapping; strict about keys, types, direction and the expression."""
    if not isinstance(item, Mapping):
        raise InvalidInputError(
            f"{where} must be a mapping with keys {', '.join(KPI_KEYS)}, not {type(item).__name__}"
        )
    unknown = sorted(str(k) for k in item if k not in KPI_KEYS)
    if unknown:
        raise InvalidInputError(
            f"{where}: unknown key(s) {', '.join(unknown)}",
            hint=f"allowed keys: {', '.join(KPI_KEYS)}",
        )
    for key in ("name", "sql"):
        if key not in item:
            raise InvalidInputError(f"{where} is missing {key!r}", hint=_example())
    name = item["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"{where}: name {name!r} is not 1-64 letters, digits, '_', '-', '.' or spaces",
            hint="start with a letter, e.g. approved_amount",
        )
    where = f"KPI {name!r}"
    direction = item.get("direction", "higher")
    if direction not in DIRECTIONS:
        raise InvalidInputError(
            f"{where}: direction {direction!r} is not one of: {', '.join(DIRECTIONS)}",
            hint="higher: the value should reach the target; lower: stay at or below it",
        )
    return KpiSpec(name, check_expression(item["sql"], where), _target(item, where), direction)


def parse_kpis(items: Iterable[Any]) -> list[KpiSpec]:
    """Several KPIs, each checked; names must be unique."""
    specs = [parse_kpi(item, where=f"KPI {i + 1}") for i, item in enumerate(items)]
    names = [spec.name for spec in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInputError(
            f"KPI name(s) used more than once: {', '.join(repeated)}",
            hint="give each KPI its own name",
        )
    return specs


def check_expression(sql: Any, where: str) -> str:
    """``sql`` if it is one SQL expression (no ``;``, no statement); raises otherwise."""
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInputError(f"{where}: sql must be a non-empty SQL expression", hint=_HINT)
    if ";" in sql:
        raise InvalidInputError(
            f"{where}: sql may not contain ';' (one expression only)", hint=_HINT
        )
    if _STATEMENT.match(sql):
        raise InvalidInputError(
            f"{where}: sql is a statement, not an expression: {sql.strip()!r}", hint=_HINT
        )
    try:
        balanced = _balanced(sql)
        statements = duckdb.extract_statements(_query(sql))
    except duckdb.Error as exc:
        raise InvalidInputError(
            f"{where}: sql does not parse: {_first_line(exc)}", hint=_HINT
        ) from exc
    if not balanced:
        raise InvalidInputError(f"{where}: sql has unbalanced parentheses: {sql!r}", hint=_HINT)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise InvalidInputError(f"{where}: sql is not a single expression: {sql!r}", hint=_HINT)
    return sql.strip()


def compute_kpis(
    home: Settings | Path | str,
    model: str,
    specs: Sequence[KpiSpec],
    start: datetime,
    end: datetime,
) -> list[KpiResult]:
    """Each KPI of ``model`` over the rows served in ``[start, end)``; an expression that fails
    raises InvalidInputError naming its KPI."""
    table, skipped = window_table(home, model, start, end, labelled_only=False)
    values: list[float | None] = [None] * len(specs)
    if table.num_rows:
        with _sandbox(table) as con:
            values = [_evaluate(con, spec) for spec in specs]
    return [
        KpiResult(
            name=spec.name,
            value=value,
            target=spec.target,
            direction=spec.direction,
            met=_met(spec, value),
            rows=table.num_rows,
            skipped_files=tuple(skipped),
        )
        for spec, value in zip(specs, values, strict=True)
    ]


def _query(sql: str) -> str:
    # GROUP BY () makes a bare column an error and keeps one row even for an empty window;
    # the newlines keep a trailing "--" comment from swallowing the rest of the query.
    return f"SELECT (\n{sql}\n) AS value FROM {VIEW} GROUP BY ()"


def _balanced(sql: str) -> bool:
    """Whether the parentheses outside strings and comments pair up, so that the expression
    cannot close the one :func:`_query` wraps it in and append a query of its own."""
    tokens = duckdb.tokenize(sql)
    depth = 0
    for (start, kind), (end, _) in zip(tokens, [*tokens[1:], (len(sql), None)], strict=True):
        if kind.name != "operator":
            continue
        for char in sql[start:end]:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                return False
    return depth == 0


def _sandbox(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    con.register(VIEW, table)
    return con


def _evaluate(con: duckdb.DuckDBPyConnection, spec: KpiSpec) -> float | None:
    where = f"KPI {spec.name!r}"
    try:
        rows = con.execute(_query(spec.sql)).fetchall()
    except duckdb.Error as exc:
        raise InvalidInputError(
            f"{where} failed: {_first_line(exc)}",
            hint=f"{_HINT}; the columns are those of the log plus label (docs/labels-and-kpis.md)",
        ) from exc
    if len(rows) != 1:
        raise InvalidInputError(f"{where} gave {len(rows)} rows, not one value", hint=_HINT)
    value = rows[0][0]
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    raise InvalidInputError(
        f"{where} gave {value!r} ({type(value).__name__}), not a number",
        hint="a KPI must be numeric: count, sum or average something",
    )


def _met(spec: KpiSpec, value: float | None) -> bool | None:
    if value is None or spec.target is None:
        return None
    return value >= spec.target if spec.direction == "higher" else value <= spec.target


def _target(item: Mapping[str, Any], where: str) -> float | None:
    target = item.get("target")
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, int | float) or not math.isfinite(target):
        raise InvalidInputError(f"{where}: target must be a finite number, not {target!r}")
    return float(target)


def _example() -> str:
    return "e.g. {name: approval_rate, sql: avg(output__approved), target: 0.6, direction: higher}"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]

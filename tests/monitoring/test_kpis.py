from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelward.errors import InvalidInputError
from modelward.monitoring.kpis import KpiSpec, compute_kpis, parse_kpis
from modelward.monitoring.labels import add_labels, labels_root
from tests.monitoring.test_labels import NOW, T0, WINDOW, corrupt, failed, scored, write_log

AMOUNTS = [100.0, 250.0, 50.0, 400.0]
APPROVED = [1, 0, 1, 1]
DEFAULTED = {"loan-0": 0, "loan-2": 1}  # labels came for two of the approved loans


@pytest.fixture
def loans(mw_home: Path) -> Path:
    records = [
        scored(
            f"loan-{i}",
            {"approved": [APPROVED[i]]},
            inputs={"amount": [AMOUNTS[i]]},
            at=T0 + timedelta(minutes=i),
        )
        for i in range(4)
    ]
    write_log(mw_home, [*records, failed("loan-9")])
    labels = pd.DataFrame({"request_id": list(DEFAULTED), "label": list(DEFAULTED.values())})
    add_labels(mw_home, "churn", labels, now=NOW)
    return mw_home


def spec(name: str, sql: str, target: float | None = None, direction: str = "higher") -> KpiSpec:
    return parse_kpis([{"name": name, "sql": sql, "target": target, "direction": direction}])[0]


def test_kpis_over_the_log_joined_to_labels(loans: Path) -> None:
    specs = parse_kpis(
        [
            {
                "name": "approved_amount",
                "sql": "sum(case when output__approved = 1 then input__amount else 0 end)",
                "target": 500,
            },
            {"name": "default_rate", "sql": "avg(label)", "target": 0.2, "direction": "lower"},
            {"name": "error_rate", "sql": "avg(CASE WHEN status <> 200 THEN 1 ELSE 0 END)"},
            {"name": "labelled", "sql": "count(label)", "target": 2},
        ]
    )
    results = {r.name: r for r in compute_kpis(loans, "churn", specs, *WINDOW)}
    expected_amount = sum(a for a, ok in zip(AMOUNTS, APPROVED, strict=True) if ok)
    assert results["approved_amount"].value == pytest.approx(expected_amount)
    assert results["approved_amount"].met is True
    assert results["default_rate"].value == pytest.approx(0.5)
    assert results["default_rate"].met is False  # lower is better: 0.5 > 0.2
    assert results["error_rate"].value == pytest.approx(1 / 5)  # every row, any status
    assert results["error_rate"].met is None  # no target
    assert results["labelled"].value == 2.0 and results["labelled"].met is True
    assert {r.rows for r in results.values()} == {5}
    assert results["labelled"].to_dict()["skipped_files"] == ()


def test_an_empty_window_has_no_values(loans: Path, mw_home: Path) -> None:
    specs = [spec("n", "count(*)", target=1), spec("amount", "sum(input__amount)")]
    later = (T0 + timedelta(days=1), T0 + timedelta(days=2))
    for result in compute_kpis(loans, "churn", specs, *later):
        assert (result.value, result.met, result.rows) == (None, None, 0)
    assert compute_kpis(mw_home, "nobody", specs, *WINDOW)[0].value is None


def test_null_and_non_finite_aggregates_are_none(loans: Path) -> None:
    specs = [spec("none", "max(label) FILTER (WHERE false)"), spec("inf", "'inf'::DOUBLE * 1")]
    assert [r.value for r in compute_kpis(loans, "churn", specs, *WINDOW)] == [None, None]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("avg(label)", "must be a mapping"),
        ({"sql": "avg(label)"}, "missing 'name'"),
        ({"name": "rate"}, "missing 'sql'"),
        ({"name": "rate", "sql": "avg(label)", "direciton": "lower"}, "unknown key"),
        ({"name": "rate", "sql": "avg(label)", "direction": "up"}, "direction 'up'"),
        ({"name": "rate", "sql": "avg(label)", "target": "high"}, "target must be"),
        ({"name": "rate", "sql": "avg(label)", "target": float("nan")}, "target must be"),
        ({"name": "1rate", "sql": "avg(label)"}, "name '1rate'"),
        ({"name": "rate", "sql": ""}, "non-empty"),
        ({"name": "rate", "sql": "avg(label); DROP TABLE x"}, "';'"),
        ({"name": "rate", "sql": "DROP TABLE labelled"}, "statement"),
        ({"name": "rate", "sql": "delete from labelled"}, "statement"),
        ({"name": "rate", "sql": "SELECT 1"}, "statement"),
        ({"name": "rate", "sql": "avg(label"}, "does not parse"),
        (
            {"name": "rate", "sql": "avg(label)) AS v FROM labelled UNION ALL SELECT (1"},
            "unbalanced",
        ),
        ({"name": "rate", "sql": "1) UNION ALL SELECT (')' || 1 --"}, "unbalanced"),
    ],
)
def test_bad_kpi_specs_are_refused(item: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_kpis([item])


def test_kpi_names_are_unique() -> None:
    with pytest.raises(InvalidInputError, match="more than once: rate"):
        parse_kpis([{"name": "rate", "sql": "avg(label)"}, {"name": "rate", "sql": "count(*)"}])


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("avg(no_such_column)", "no_such_column"),
        ("label", "GROUP BY"),  # not an aggregate
        ("max(request_id)", "not a number"),
    ],
)
def test_expression_errors_name_the_kpi(loans: Path, sql: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"KPI 'broken'.*{message}"):
        compute_kpis(loans, "churn", [spec("ok", "count(*)"), spec("broken", sql)], *WINDOW)


def test_kpis_cannot_read_files(loans: Path) -> None:
    inside = next(labels_root(loans).rglob("*.parquet"))
    for sql in (
        "count(*) + (SELECT count(*) FROM read_csv('/etc/passwd'))",
        f"count(*) + (SELECT count(*) FROM read_parquet('{inside}'))",
    ):
        with pytest.raises(InvalidInputError, match="disabled by configuration"):
            compute_kpis(loans, "churn", [spec("sneaky", sql)], *WINDOW)


def test_a_corrupt_label_file_is_skipped_and_reported(loans: Path) -> None:
    bad = corrupt(labels_root(loans) / "model=churn" / "date=2026-11-02")
    [result] = compute_kpis(loans, "churn", [spec("labelled", "count(label)")], *WINDOW)
    assert result.value == 2.0
    assert result.skipped_files == (str(bad),)

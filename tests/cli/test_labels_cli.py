from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelward.errors import EXIT_INVALID
from modelward.monitoring.labels import labels_root
from tests.monitoring.test_labels import corrupt, scored, write_log
from tests.support.cli import Run


@pytest.fixture
def labels_csv(mw_home: Path, tmp_path: Path) -> Path:
    """A log with requests r0 and r1, and a labels file for r0, r1 (twice) and unknown x."""
    write_log(mw_home, [scored("r0", {"prediction": [1]}), scored("r1", {"prediction": [0]})])
    csv = tmp_path / "labels.csv"
    csv.write_text(
        "request_id,label,time\n"
        "r0,1,2026-11-01T13:00:00+01:00\n"
        "r1,0,\n"
        "r1,1,2026-11-01T12:30:00Z\n"
        "x,1,\n"
        ",1,\n"
    )
    return csv


def test_add_prints_the_receipt_as_json(run: Run, labels_csv: Path, mw_home: Path) -> None:
    result = run("labels", "add", "churn", "--file", str(labels_csv), "--json")
    assert result.code == 0, result.err
    receipt = json.loads(result.out)
    assert receipt["added"] == 3
    assert receipt["unknown_request_ids"] == 1
    assert receipt["duplicates_replaced"] == 1
    assert receipt["rejected_rows"] == 1
    assert receipt["problems"] == ["record 5: request_id is empty"]
    assert Path(receipt["file"]).is_relative_to(labels_root(mw_home) / "model=churn")


def test_add_prints_a_table(run: Run, labels_csv: Path) -> None:
    result = run("labels", "add", "churn", "-f", str(labels_csv))
    assert result.code == 0, result.err
    assert "unknown request ids" in result.out and "written to" in result.out
    [row] = [line for line in result.out.splitlines() if line.startswith("│")]
    assert [cell.strip() for cell in row.strip("│").split("│")] == ["3", "1", "1", "1"]
    assert "request_id is empty" in result.err


def test_list_shows_the_labels_in_force(run: Run, labels_csv: Path, mw_home: Path) -> None:
    run("labels", "add", "churn", "--file", str(labels_csv))
    result = run("labels", "list", "churn", "--json")
    assert result.code == 0, result.err
    rows = {r["request_id"]: r for r in json.loads(result.out)}
    assert set(rows) == {"r0", "r1", "x"}
    assert rows["r1"]["label"] == 1  # the last of the two rows for r1
    assert rows["r0"]["label_time"].startswith("2026-11-01T12:00:00")  # +01:00 became UTC
    table = run("labels", "list", "churn", "--limit", "1")
    data_rows = [line for line in table.out.splitlines() if line.startswith("│")]
    assert table.code == 0 and len(data_rows) == 1 and "r0" in data_rows[0]  # ties: by id
    bad = corrupt(labels_root(mw_home) / "model=churn" / "date=2026-11-02")
    warned = run("labels", "list", "churn")
    assert warned.code == 0 and f"skipped unreadable file {bad}" in " ".join(warned.err.split())


def test_a_missing_label_column_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("request_id,outcome\nr0,1\n")
    result = run("labels", "add", "churn", "--file", str(csv))
    assert result.code == EXIT_INVALID
    assert "missing column 'label'" in result.err and "hint:" in result.err


def test_bad_model_name_and_limit(run: Run, labels_csv: Path) -> None:
    assert run("labels", "add", "../x", "--file", str(labels_csv)).code == EXIT_INVALID
    assert run("labels", "list", "churn", "--limit", "-1").code == 2

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelward.cli import logs
from modelward.errors import InvalidInputError, NotFoundError
from modelward.monitoring.inference_log import InferenceLog
from tests.monitoring.conftest import make_record

runner = CliRunner()
COUNT_SQL = "SELECT model, count(*) AS n FROM inference GROUP BY model ORDER BY model"


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def filled(root: Path) -> Path:
    log = InferenceLog(root)
    log.start()
    for i in range(3):
        log.record(make_record(i, model="churn"))
    log.record(make_record(0, model="fraud", error="boom"))
    log.close()
    return root


def test_query_prints_a_table(filled: Path) -> None:
    result = runner.invoke(logs.app, ["query", COUNT_SQL])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "churn" in line or "fraud" in line]
    assert len(lines) == 2 and "6" in lines[0] and "2" in lines[1]


def test_query_json(filled: Path) -> None:
    result = runner.invoke(logs.app, ["query", COUNT_SQL, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"model": "churn", "n": 6}, {"model": "fraud", "n": 2}]
    rows = json.loads(
        runner.invoke(logs.app, ["query", "SELECT * FROM inference", "--json"]).stdout
    )
    fraud = [r for r in rows if r["model"] == "fraud"]
    assert fraud[0]["error"] == "boom" and fraud[0]["output__score"] is None
    assert fraud[0]["time"].startswith("2024-05-01T12:00:00")


def test_limit_says_there_is_more(filled: Path) -> None:
    result = runner.invoke(logs.app, ["query", "SELECT * FROM inference", "--json", "--limit", "2"])
    assert len(json.loads(result.stdout)) == 2
    assert "first 2 rows" in result.stderr


def test_sql_error(filled: Path) -> None:
    result = runner.invoke(logs.app, ["query", "SELECT nope FROM inference"])
    assert isinstance(result.exception, InvalidInputError)
    assert "nope" in result.exception.message


def test_empty_log(root: Path) -> None:
    result = runner.invoke(logs.app, ["query", "SELECT * FROM inference"])
    assert isinstance(result.exception, NotFoundError)


def test_skipped_files_are_warned_about(filled: Path) -> None:
    bad = filled / "model=churn" / "date=2024-05-01" / "part-bad.parquet"
    bad.write_bytes(b"not parquet at all")
    result = runner.invoke(logs.app, ["query", COUNT_SQL, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0] == {"model": "churn", "n": 6}
    assert "skipped unreadable file" in result.stderr and "part-bad.parquet" in result.stderr

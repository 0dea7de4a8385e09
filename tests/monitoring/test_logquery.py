from __future__ import annotations

from pathlib import Path

import pytest

from modelward.errors import InvalidInputError, NotFoundError
from modelward.monitoring.inference_log import InferenceLog
from modelward.monitoring.logquery import query_logs
from tests.monitoring.conftest import make_record


@pytest.fixture
def filled(root: Path, mw_home: Path) -> Path:
    """A log with 3 churn and 2 fraud requests (2 rows each) on two days; returns the home."""
    log = InferenceLog(root)
    log.start()
    for i in range(3):
        log.record(make_record(i, model="churn", day=i % 2))
    for i in range(2):
        log.record(make_record(i, model="fraud"))
    log.close()
    return mw_home


def test_counts_by_model(filled: Path) -> None:
    df = query_logs(
        filled,
        "SELECT model, count(DISTINCT request_id) AS requests, count(*) AS rows "
        "FROM inference GROUP BY model ORDER BY model",
    )
    assert df.to_dict("records") == [
        {"model": "churn", "requests": 3, "rows": 6},
        {"model": "fraud", "requests": 2, "rows": 4},
    ]
    assert df.attrs["skipped_files"] == []


def test_partition_columns_and_a_self_join(filled: Path) -> None:
    days = query_logs(filled, "SELECT DISTINCT date FROM inference WHERE model = 'churn'")
    assert sorted(str(d.date()) for d in days["date"]) == ["2024-05-01", "2024-05-02"]
    joined = query_logs(
        filled,
        "SELECT a.request_id, a.input__age AS first, b.input__age AS second "
        "FROM inference a JOIN inference b ON a.request_id = b.request_id "
        "AND a.row = 0 AND b.row = 1 WHERE a.model = 'fraud' ORDER BY 1",
    )
    assert joined.to_dict("records") == [
        {"request_id": "fraud-0", "first": 0, "second": 1},
        {"request_id": "fraud-1", "first": 1, "second": 2},
    ]
    times = query_logs(filled, "SELECT time FROM inference LIMIT 1")
    assert str(times["time"].dt.tz) == "UTC"


def test_limit(filled: Path) -> None:
    assert len(query_logs(filled, "SELECT * FROM inference ORDER BY time", limit=3)) == 3


def test_an_empty_log_says_so(mw_home: Path) -> None:
    with pytest.raises(NotFoundError, match="no inference records yet"):
        query_logs(mw_home, "SELECT * FROM inference")


def test_sql_errors_are_invalid_input(filled: Path) -> None:
    with pytest.raises(InvalidInputError, match="nope"):
        query_logs(filled, "SELECT nope FROM inference")
    with pytest.raises(InvalidInputError, match="syntax error"):
        query_logs(filled, "SELEC 1")


def test_only_one_select_and_only_the_log_can_be_read(filled: Path) -> None:
    with pytest.raises(InvalidInputError, match="not COPY"):
        query_logs(filled, "COPY (SELECT 1) TO 'x.csv'")
    with pytest.raises(InvalidInputError, match="one SELECT"):
        query_logs(filled, "SELECT 1; SELECT 2")
    with pytest.raises(InvalidInputError, match="disabled by configuration"):
        query_logs(filled, "SELECT * FROM read_csv('/etc/passwd')")


def test_a_corrupt_file_is_skipped_and_reported(filled: Path, root: Path) -> None:
    bad = root / "model=churn" / "date=2024-05-01" / "part-0-0-0.parquet"
    bad.write_bytes(b"PAR1 this is not parquet PAR1")
    df = query_logs(filled, "SELECT model, count(*) AS n FROM inference GROUP BY 1 ORDER BY 1")
    assert df.to_dict("records") == [{"model": "churn", "n": 6}, {"model": "fraud", "n": 4}]
    assert df.attrs["skipped_files"] == [str(bad)]


def test_only_corrupt_files_is_a_clear_error(mw_home: Path, root: Path) -> None:
    folder = root / "model=churn" / "date=2024-05-01"
    folder.mkdir(parents=True)
    (folder / "part-0-0-0.parquet").write_bytes(b"garbage")
    with pytest.raises(NotFoundError, match="all 1 file"):
        query_logs(mw_home, "SELECT * FROM inference")

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelward.errors import (
    ConflictError,
    InvalidInputError,
    InvalidNameError,
    UnavailableError,
)
from modelward.monitoring import partitions
from modelward.monitoring.inference_log import InferenceLog
from modelward.monitoring.records import InferenceRecord
from tests.monitoring.conftest import make_record, read_log


def test_records_land_in_model_and_day_partitions(started: InferenceLog, root: Path) -> None:
    for i in range(3):
        started.record(make_record(i, model="churn", day=0))
        started.record(make_record(i, model="churn", day=1))
        started.record(make_record(i, model="fraud", day=0))
    stats = started.close()
    assert stats["recorded"] == stats["written"] == 9 and stats["dropped"] == 0
    folders = sorted(str(p.relative_to(root)) for p in root.glob("model=*/date=*"))
    assert folders == [
        "model=churn/date=2024-05-01",
        "model=churn/date=2024-05-02",
        "model=fraud/date=2024-05-01",
    ]
    table = pq.read_table(next((root / "model=fraud" / "date=2024-05-01").glob("*.parquet")))
    assert table.num_rows == 6 and set(table.column("model").to_pylist()) == {"fraud"}
    assert table.column("row").to_pylist() == [0, 1] * 3
    assert table.column("request_id").to_pylist()[:2] == ["fraud-0", "fraud-0"]


def test_one_row_per_scored_row_with_typed_columns(started: InferenceLog, root: Path) -> None:
    started.record(make_record(7, rows=3))
    started.close()
    table = read_log(root)
    assert table.column_names == [
        "request_id",
        "row",
        "time",
        "model",
        "version",
        "status",
        "latency_ms",
        "protocol",
        "error",
        "input__age",
        "input__income",
        "input__city",
        "output__score",
        "output__churned",
    ]
    schema = table.schema
    assert schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert schema.field("input__age").type == pa.int64()
    assert schema.field("input__income").type == pa.float64()
    assert schema.field("input__city").type == pa.string()
    assert schema.field("output__churned").type == pa.bool_()
    assert table.column("input__age").to_pylist() == [7, 8, 9]
    assert table.column("input__city").to_pylist() == ["c7-0", "c7-1", "c7-2"]
    assert table.column("time")[0].as_py() == make_record(7).time


def test_a_failed_request_without_inputs_gives_one_row(started: InferenceLog, root: Path) -> None:
    started.record(make_record(1, rows=0, error="cannot decode body"))
    started.record(make_record(2, rows=2, error="model raised"))
    started.close()
    rows = sorted(read_log(root).to_pylist(), key=lambda r: (r["request_id"], r["row"]))
    assert [(r["request_id"], r["row"], r["status"]) for r in rows] == [
        ("churn-1", 0, 500),
        ("churn-2", 0, 500),
        ("churn-2", 1, 500),
    ]
    assert rows[0]["error"] == "cannot decode body" and rows[0]["input__age"] is None
    assert rows[1]["input__age"] == 2 and "output__score" not in rows[1]


def test_close_flushes_everything_before_the_interval(root: Path) -> None:
    log = InferenceLog(root, flush_interval=3600)
    log.start()
    for i in range(50):
        log.record(make_record(i))
    stats = log.close()
    assert stats["written"] == 50 and stats["queued"] == 0
    assert read_log(root).num_rows == 100
    assert not list(root.rglob("*.tmp"))


def test_close_without_start_still_writes(root: Path) -> None:
    log = InferenceLog(root)
    log.record(make_record(1))
    assert log.close()["written"] == 1
    with pytest.raises(UnavailableError, match="closed"):
        log.record(make_record(2))


def test_malformed_records_are_refused_at_once(started: InferenceLog) -> None:
    good = make_record(1)
    uneven = {"a": np.zeros(2), "b": np.zeros(3)}
    with pytest.raises(InvalidInputError, match="different lengths"):
        started.record(_replace(good, inputs=uneven))
    with pytest.raises(InvalidInputError, match="3 output rows"):
        started.record(_replace(good, outputs={"score": np.zeros(3)}))
    with pytest.raises(InvalidInputError, match="1-D"):
        started.record(_replace(good, inputs={"a": np.zeros((2, 2))}))
    with pytest.raises(InvalidInputError, match="time zone"):
        started.record(_replace(good, time=datetime(2024, 1, 1)))
    with pytest.raises(InvalidNameError):
        started.record(_replace(good, model="../etc"))
    assert started.stats()["recorded"] == 0


def _replace(record: InferenceRecord, **changes: Any) -> InferenceRecord:
    fields = {name: getattr(record, name) for name in InferenceRecord.__dataclass_fields__}
    return InferenceRecord(**{**fields, **changes})


def test_a_stuck_writer_never_blocks_record_and_spills_the_overflow(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_write = partitions.write_table

    def stuck_write(folder: Path, name: str, table: pa.Table) -> Path:
        entered.set()
        release.wait(30)
        return real_write(folder, name, table)

    monkeypatch.setattr(partitions, "write_table", stuck_write)
    log = InferenceLog(root, max_queue=2, flush_interval=0.01)
    log.start()
    log.record(make_record(0))
    assert entered.wait(10), "the writer never picked up the first record"

    recorder = threading.Thread(target=lambda: [log.record(make_record(i)) for i in range(1, 11)])
    recorder.start()
    recorder.join(10)
    assert not recorder.is_alive(), "record() blocked while the writer was stuck"
    stats = log.stats()
    assert stats["queued"] == 1 + 2 and stats["spilled"] == 8
    assert len(list((root / "_spill").glob("*.spill"))) == 1

    release.set()
    stats = log.close()
    assert stats["recorded"] == stats["written"] == 11
    assert stats["dropped"] == stats["rejected"] == stats["unrecoverable"] == 0
    ids = set(read_log(root).column("request_id").to_pylist())
    assert ids == {f"churn-{i}" for i in range(11)}
    assert not list((root / "_spill").iterdir())


def test_write_failures_are_retried_and_counted(
    root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_write = partitions.write_table
    failures = iter([OSError(28, "No space left on device")] * 2)

    def flaky_write(folder: Path, name: str, table: pa.Table) -> Path:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_write(folder, name, table)

    monkeypatch.setattr(partitions, "write_table", flaky_write)
    monkeypatch.setattr("modelward.monitoring.inference_log._MAX_RETRY_DELAY", 0.05)
    log = InferenceLog(root, flush_interval=0.01)
    log.start()
    log.record(make_record(1, model="churn"))
    log.record(make_record(2, model="fraud"))
    stats = log.close()
    assert stats["write_errors"] == 2 and stats["written"] == stats["recorded"] == 2
    assert "No space left on device" in (log.last_error or "")
    assert "write to" in caplog.text and "will retry" in caplog.text
    assert read_log(root).num_rows == 4


def test_close_that_cannot_write_keeps_records_in_a_spill_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(folder: Path, name: str, table: pa.Table) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(partitions, "write_table", full_disk)
    log = InferenceLog(root, flush_interval=0.01)
    log.start()
    for i in range(3):
        log.record(make_record(i))
    with pytest.raises(UnavailableError, match="could not write 3 record"):
        log.close(timeout=0.2)
    assert log.stats()["dropped"] == 0
    monkeypatch.undo()

    fresh = InferenceLog(root)
    fresh.start()
    assert fresh.stats()["recovered"] == 3
    fresh.close()
    assert read_log(root).num_rows == 6


def test_starting_twice_is_refused(started: InferenceLog) -> None:
    with pytest.raises(ConflictError, match="already started"):
        started.start()

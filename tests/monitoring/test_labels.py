from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelward.errors import InvalidDataError, InvalidNameError
from modelward.monitoring.inference_log import InferenceLog, inference_root
from modelward.monitoring.labels import (
    add_labels,
    labelled_records,
    labels_root,
    list_labels,
    window_table,
)
from modelward.monitoring.records import InferenceRecord

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
WINDOW = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))


def scored(
    request_id: str,
    outputs: Mapping[str, Sequence[Any]],
    *,
    model: str = "churn",
    at: datetime = T0,
    version: int = 1,
    inputs: Mapping[str, Sequence[Any]] | None = None,
) -> InferenceRecord:
    """An answered request with the given output columns (one value per row)."""
    rows = len(next(iter(outputs.values())))
    columns = {k: np.asarray(v) for k, v in (inputs or {"x": list(range(rows))}).items()}
    return InferenceRecord(
        request_id=request_id,
        time=at,
        model=model,
        version=version,
        status=200,
        latency_ms=1.0,
        inputs=columns,
        outputs={k: np.asarray(v) for k, v in outputs.items()},
    )


def failed(request_id: str, *, model: str = "churn", at: datetime = T0) -> InferenceRecord:
    """A request the model failed on: no outputs, status 500."""
    return InferenceRecord(
        request_id=request_id,
        time=at,
        model=model,
        version=1,
        status=500,
        latency_ms=1.0,
        inputs={"x": np.array([0])},
        error="boom",
    )


def write_log(home: Path, records: Sequence[InferenceRecord]) -> None:
    """Write ``records`` to the real inference log of ``home``."""
    log = InferenceLog(inference_root(home))
    log.start()
    for record in records:
        log.record(record)
    log.close()


def corrupt(folder: Path) -> Path:
    """A damaged Parquet file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    bad = folder / "part-0-0-0.parquet"
    bad.write_bytes(b"PAR1 this is not parquet PAR1")
    return bad


@pytest.fixture
def logged(mw_home: Path) -> Path:
    """Requests churn-0..3 (two rows each) at T0 + i minutes; churn-9 failed."""
    records = [
        scored(f"churn-{i}", {"prediction": [i % 2, 1]}, at=T0 + timedelta(minutes=i))
        for i in range(4)
    ]
    write_log(mw_home, [*records, failed("churn-9")])
    return mw_home


def test_add_from_csv_stores_one_parquet_file(logged: Path, tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text("request_id,row,label\nchurn-0,0,1\nchurn-0,1,0\nchurn-1,0,1\n")
    receipt = add_labels(logged, "churn", csv, now=NOW)
    assert (receipt.added, receipt.unknown_request_ids, receipt.rejected_rows) == (3, 0, 0)
    assert receipt.duplicates_replaced == 0
    written = Path(str(receipt.file))
    assert written.parent == labels_root(logged) / "model=churn" / "date=2026-11-03"
    table = pq.read_table(written)
    assert table.column_names == ["request_id", "row", "label", "time", "received_at"]
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.column("received_at").to_pylist() == [NOW] * 3
    assert table.column("time").to_pylist() == [NOW] * 3  # no time column: the label time is now
    assert json.dumps(receipt.to_dict())


def test_ids_stay_text_and_row_defaults_to_zero(logged: Path, tmp_path: Path) -> None:
    write_log(logged, [scored("007", {"prediction": [1]})])
    csv = tmp_path / "labels.csv"
    csv.write_text("request_id,label\n007,yes\n")
    receipt = add_labels(logged, "churn", csv, now=NOW)
    assert receipt.unknown_request_ids == 0
    frame = labelled_records(logged, "churn", *WINDOW)
    assert frame.loc[frame.request_id == "007", ["row", "label"]].to_dict("records") == [
        {"row": 0, "label": "yes"}
    ]


def test_jsonl_and_parquet_files(logged: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text(
        '{"request_id": "churn-2", "label": 0.5}\n{"request_id": "churn-3", "label": 2}\n'
    )
    assert add_labels(logged, "churn", jsonl, now=NOW).added == 2
    parquet = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"request_id": ["churn-1"], "row": [1], "label": [7]}), parquet)
    assert add_labels(logged, "churn", parquet, now=NOW).added == 1
    assert len(list_labels(logged, "churn")) == 3


def test_unknown_request_ids_are_counted_and_still_stored(logged: Path) -> None:
    frame = pd.DataFrame({"request_id": ["churn-0", "later-1", "later-1", "later-2"], "label": 1})
    frame["row"] = [0, 0, 1, 0]
    receipt = add_labels(logged, "churn", frame, now=NOW)
    assert receipt.unknown_request_ids == 2  # distinct ids, not rows
    assert receipt.added == 4
    assert set(list_labels(logged, "churn").request_id) == {"churn-0", "later-1", "later-2"}
    # the records arrive later: the stored labels join them then
    write_log(logged, [scored("later-1", {"prediction": [0, 0]})])
    joined = labelled_records(logged, "churn", *WINDOW)
    assert sorted(joined.loc[joined.request_id == "later-1", "row"]) == [0, 1]


def test_an_empty_log_makes_every_id_unknown(mw_home: Path) -> None:
    receipt = add_labels(mw_home, "churn", pd.DataFrame({"request_id": ["a", "b"], "label": 1}))
    assert receipt.unknown_request_ids == 2


def test_duplicates_last_wins_within_a_file_and_by_arrival(logged: Path) -> None:
    first = pd.DataFrame({"request_id": ["churn-0", "churn-0", "churn-1"], "label": [1, 0, 1]})
    receipt = add_labels(logged, "churn", first, now=NOW)
    assert (receipt.added, receipt.duplicates_replaced) == (2, 1)
    later = pd.DataFrame({"request_id": ["churn-1", "churn-2"], "label": [0, 1]})
    receipt = add_labels(logged, "churn", later, now=NOW + timedelta(minutes=1))
    assert (receipt.added, receipt.duplicates_replaced) == (2, 1)
    frame = labelled_records(logged, "churn", *WINDOW)
    labels = dict(zip(frame.request_id[frame.row == 0], frame.label[frame.row == 0], strict=True))
    assert labels == {"churn-0": 0, "churn-1": 0, "churn-2": 1}
    # an equal arrival time is settled by the later file
    again = NOW + timedelta(minutes=2)
    add_labels(logged, "churn", pd.DataFrame({"request_id": ["churn-2"], "label": [5]}), now=again)
    add_labels(logged, "churn", pd.DataFrame({"request_id": ["churn-2"], "label": [6]}), now=again)
    in_force = list_labels(logged, "churn")
    assert in_force.loc[in_force.request_id == "churn-2", "label"].tolist() == [6]


def test_mixed_time_zones_become_utc(logged: Path, tmp_path: Path) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text(
        "request_id,label,time\n"
        "churn-0,1,2026-11-02T10:00:00+02:00\n"
        "churn-1,1,2026-11-02T08:00:00Z\n"
        "churn-2,1,2026-11-02T03:00:00-05:00\n"
        "churn-3,1,2026-11-02 08:00\n"
    )
    add_labels(logged, "churn", csv, now=NOW)
    times = list_labels(logged, "churn").label_time
    assert set(times) == {pd.Timestamp("2026-11-02T08:00:00Z")}
    aware = pd.DataFrame(
        {
            "request_id": ["churn-0", "churn-1"],
            "label": [0, 0],
            "time": [
                datetime(2026, 11, 2, 9, tzinfo=timedelta_zone(1)),
                datetime(2026, 11, 2, 8, tzinfo=UTC),
            ],
        }
    )
    add_labels(logged, "churn", aware, now=NOW + timedelta(minutes=1))
    latest = list_labels(logged, "churn", limit=2).label_time
    assert set(latest) == {pd.Timestamp("2026-11-02T08:00:00Z")}


def timedelta_zone(hours: int) -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def test_missing_columns_are_named(logged: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidDataError, match="missing column 'label'"):
        add_labels(logged, "churn", pd.DataFrame({"request_id": ["churn-0"], "y": [1]}))
    csv = tmp_path / "labels.csv"
    csv.write_text("id,label\nchurn-0,1\n")
    with pytest.raises(InvalidDataError, match="missing column 'request_id'") as caught:
        add_labels(logged, "churn", csv)
    assert caught.value.hint and "request_id and label" in caught.value.hint
    assert not labels_root(logged).exists()


def test_bad_rows_are_rejected_and_the_rest_stored(logged: Path) -> None:
    frame = pd.DataFrame(
        {
            "request_id": ["churn-0", None, "churn-1", "churn-2", "churn-3"],
            "label": [1, 1, None, 1, 1],
            "row": [0, 0, 0, -1, 0],
            "time": ["2026-11-02", None, None, None, "yesterday"],
        }
    )
    receipt = add_labels(logged, "churn", frame, now=NOW)
    assert (receipt.added, receipt.rejected_rows) == (1, 4)
    assert receipt.problems == (
        "record 2: request_id is empty",
        "record 3: label is empty",
        "record 4: row is not a whole number >= 0",
        "record 5: time is not an ISO 8601 time",
    )
    with pytest.raises(InvalidDataError, match="all 1 row"):
        add_labels(logged, "churn", pd.DataFrame({"request_id": [""], "label": [1]}))


def test_bad_model_names_and_files(logged: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame({"request_id": ["a"], "label": [1]})
    with pytest.raises(InvalidNameError):
        add_labels(logged, "../escape", frame)
    with pytest.raises(InvalidDataError, match="no such labels file"):
        add_labels(logged, "churn", tmp_path / "missing.csv")
    (tmp_path / "labels.txt").write_text("request_id,label\n")
    with pytest.raises(InvalidDataError, match="cannot tell the format"):
        add_labels(logged, "churn", tmp_path / "labels.txt")
    (tmp_path / "broken.parquet").write_bytes(b"nope")
    with pytest.raises(InvalidDataError, match="cannot read labels file"):
        add_labels(logged, "churn", tmp_path / "broken.parquet")
    with pytest.raises(InvalidDataError, match="no rows"):
        add_labels(logged, "churn", frame.head(0))


def test_labelled_records_joins_answered_rows_in_the_window(logged: Path) -> None:
    write_log(logged, [scored("old", {"prediction": [1]}, at=T0 - timedelta(days=1))])
    labels = pd.DataFrame(
        {
            "request_id": ["churn-0", "churn-1", "churn-9", "old", "elsewhere"],
            "row": [1, 0, 0, 0, 0],
            "label": [1, 0, 1, 1, 1],
        }
    )
    add_labels(logged, "churn", labels, now=NOW)
    frame = labelled_records(logged, "churn", *WINDOW)
    assert frame[["request_id", "row", "label"]].to_dict("records") == [
        {"request_id": "churn-0", "row": 1, "label": 1},
        {"request_id": "churn-1", "row": 0, "label": 0},
    ]  # churn-9 failed (status 500), "old" is outside the window
    assert {"output__prediction", "input__x", "label_time", "label_received_at"} <= set(frame)
    assert frame.attrs["skipped_files"] == []
    everything, _ = window_table(logged, "churn", *WINDOW, labelled_only=False)
    assert everything.num_rows == 4 * 2 + 1
    assert everything.column("label").null_count == 4 * 2 + 1 - 3  # the failed row has one too


def test_version_filter_and_other_models(logged: Path) -> None:
    write_log(
        logged,
        [
            scored("v2", {"prediction": [1]}, version=2),
            scored("fraud-0", {"prediction": [1]}, model="fraud"),
        ],
    )
    add_labels(logged, "churn", pd.DataFrame({"request_id": ["churn-0", "v2"], "label": 1}))
    add_labels(logged, "fraud", pd.DataFrame({"request_id": ["fraud-0"], "label": 1}))
    assert labelled_records(logged, "churn", *WINDOW, version=2).request_id.tolist() == ["v2"]
    assert set(labelled_records(logged, "churn", *WINDOW).request_id) == {"churn-0", "v2"}
    assert labelled_records(logged, "fraud", *WINDOW).request_id.tolist() == ["fraud-0"]


def test_an_empty_window_gives_an_empty_frame(logged: Path, mw_home: Path) -> None:
    far = (T0 + timedelta(days=30), T0 + timedelta(days=31))
    assert labelled_records(logged, "churn", *far).empty
    assert labelled_records(mw_home, "nobody", *WINDOW).empty
    assert list_labels(mw_home, "nobody").empty


def test_corrupt_files_are_skipped_and_reported(logged: Path) -> None:
    add_labels(logged, "churn", pd.DataFrame({"request_id": ["churn-0"], "label": [1]}))
    bad_label = corrupt(labels_root(logged) / "model=churn" / "date=2026-11-02")
    receipt = add_labels(logged, "churn", pd.DataFrame({"request_id": ["churn-1"], "label": [0]}))
    assert receipt.skipped_files == (str(bad_label),) and receipt.added == 1
    bad_log = corrupt(inference_root(logged) / "model=churn" / "date=2026-11-01")
    frame = labelled_records(logged, "churn", *WINDOW)
    assert sorted(frame.request_id) == ["churn-0", "churn-1"]
    assert sorted(frame.attrs["skipped_files"]) == sorted([str(bad_log), str(bad_label)])
    assert list_labels(logged, "churn").attrs["skipped_files"] == [str(bad_label)]

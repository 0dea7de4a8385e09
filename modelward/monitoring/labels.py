"""Labels: the ground truth for logged requests, arriving later, kept as Parquet beside the log.

Files: ``MODELWARD_HOME/labels/model=<name>/date=<day received>/part-….parquet``, one per
:func:`add_labels` call, written atomically (all of a call's labels or none), with columns
``request_id, row, label, time, received_at``. A label belongs to the log row with the same
``(request_id, row)``; when several exist, the one received last wins (then the later file).
:func:`window_table` reads a window of the log joined to the labels in force.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelward.config import Settings
from modelward.errors import InvalidDataError
from modelward.monitoring.inference_log import inference_root
from modelward.monitoring.labelled import (
    _count,
    _read,
    home_of,
    labelled_records,
    labels_root,
    list_labels,
    model_files,
    resilient,
    window_table,
)
from modelward.monitoring.partitions import part_name, partition_dir, write_table
from modelward.monitoring.tables import TIME_TYPE
from modelward.monitoring.windows import to_utc
from modelward.refs import check_name

T = TypeVar("T")
REQUIRED = ("request_id", "label")
_KEY = ["request_id", "row"]
_MAX_PROBLEMS = 5
_COLUMNS_HINT = "give columns request_id and label, and optionally row (default 0) and time"


@dataclass(frozen=True)
class LabelReceipt:
    """What :func:`add_labels` did: rows stored, and what it noticed on the way."""

    model: str
    added: int  # label rows stored by this call
    unknown_request_ids: int  # distinct request ids not (yet) in the model's inference log
    duplicates_replaced: int  # rows that replace an earlier label for the same (request_id, row)
    rejected_rows: int  # rows not stored: empty id or label, bad row number or time
    problems: tuple[str, ...] = ()  # the first few reasons for rejections
    file: str | None = None  # the Parquet file written
    skipped_files: tuple[str, ...] = ()  # unreadable log or label files met while checking

    def to_dict(self) -> dict[str, Any]:
        """The receipt as JSON-ready data."""
        return asdict(self)


def add_labels(
    settings_or_home: Settings | Path | str,
    model: str,
    frame_or_path: pd.DataFrame | Path | str,
    *,
    now: datetime | None = None,
) -> LabelReceipt:
    """Store labels from a DataFrame or a CSV, Parquet or JSON-lines file for ``model``.

    Labels for request ids the log does not know (yet) are stored too, because their records
    may still be on their way to the log; the receipt counts them.
    """
    home = home_of(settings_or_home)
    check_name(model)
    received = to_utc(now) if now is not None else datetime.now(UTC)
    frame = read_labels(frame_or_path)
    table, rejected, problems, in_file = _clean(frame, received)
    if table.num_rows == 0:
        raise InvalidDataError(
            f"no usable labels: all {rejected} row(s) rejected ({'; '.join(problems)})",
            hint=_COLUMNS_HINT,
        )
    (unknown, earlier), skipped = _compare(home, model, table)
    folder = partition_dir(labels_root(home), model, received.date())
    written = write_table(folder, part_name(0), table)
    return LabelReceipt(
        model=model,
        added=table.num_rows,
        unknown_request_ids=unknown,
        duplicates_replaced=in_file + earlier,
        rejected_rows=rejected,
        problems=tuple(problems),
        file=str(written),
        skipped_files=tuple(skipped),
    )


def read_labels(frame_or_path: pd.DataFrame | Path | str) -> pd.DataFrame:
    """Labels as a DataFrame: ids and times read as text (so ``007`` stays ``007``)."""
    if isinstance(frame_or_path, pd.DataFrame):
        return frame_or_path
    path = Path(frame_or_path).expanduser()
    if not path.is_file():
        raise InvalidDataError(f"no such labels file: {path}", hint=_COLUMNS_HINT)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            text = dict.fromkeys(["request_id", "time"], pa.string())
            options = pacsv.ConvertOptions(column_types=text)
            return pacsv.read_csv(path, convert_options=options).to_pandas()
        if suffix in (".parquet", ".pq"):
            return pq.read_table(path).to_pandas()
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pd.read_json(path, lines=True, dtype=False)
    except (pa.ArrowInvalid, ValueError, UnicodeDecodeError, OSError) as exc:
        raise InvalidDataError(
            f"cannot read labels file {path.name}: {str(exc).splitlines()[0]}",
            hint="check that the file is valid CSV, Parquet or JSON lines",
        ) from exc
    raise InvalidDataError(
        f"cannot tell the format of labels file {path.name}",
        hint="use a .csv, .parquet or .jsonl (JSON lines) file",
    )


def _clean(frame: pd.DataFrame, received: datetime) -> tuple[pa.Table, int, list[str], int]:
    """The labels to store, the count and reasons of rejected rows, and the in-file repeats."""
    for column in REQUIRED:
        if column not in frame.columns:
            raise InvalidDataError(
                f"labels are missing column {column!r} (columns: {', '.join(map(str, frame.columns))})",
                hint=_COLUMNS_HINT,
            )
    if frame.empty:
        raise InvalidDataError("the labels hold no rows", hint=_COLUMNS_HINT)
    frame = frame.reset_index(drop=True)
    ids = frame["request_id"].map(lambda v: None if _missing(v) else str(v).strip())
    rows = pd.to_numeric(frame["row"], errors="coerce") if "row" in frame else None
    times = _times(frame["time"]) if "time" in frame else None
    bad, problems = _rejections(frame, ids, rows, times)
    keep = ~bad
    clean = pd.DataFrame(
        {
            "request_id": ids[keep].astype(object),
            "row": rows[keep].fillna(0).astype("int64") if rows is not None else 0,
            "label": frame["label"][keep],
        }
    )
    repeated = clean.duplicated(subset=_KEY, keep="last").to_numpy()  # within a file, last wins
    clean = clean[~repeated]
    moments = times[keep][~repeated] if times is not None else None
    return _table(clean, moments, received), int(bad.sum()), problems, int(repeated.sum())


def _rejections(
    frame: pd.DataFrame, ids: pd.Series, rows: pd.Series | None, times: pd.Series | None
) -> tuple[np.ndarray, list[str]]:
    """Which rows cannot be stored, and the first few reasons, in file order."""
    reasons = {
        "request_id is empty": ids.isna() | (ids == ""),
        "label is empty": frame["label"].map(_missing).astype(bool),
    }
    if rows is not None:
        whole = rows.notna() & (rows >= 0) & (rows % 1 == 0)
        reasons["row is not a whole number >= 0"] = _given(frame["row"]) & ~whole
    if times is not None:
        reasons["time is not an ISO 8601 time"] = _given(frame["time"]) & times.isna()
    bad = np.zeros(len(frame), dtype=bool)
    found: list[tuple[int, str]] = []
    for reason, mask in reasons.items():
        flagged = mask.to_numpy(dtype=bool)
        found += [(int(i), reason) for i in np.flatnonzero(flagged & ~bad)]
        bad |= flagged
    return bad, [f"record {i + 1}: {reason}" for i, reason in sorted(found)[:_MAX_PROBLEMS]]


def _given(values: pd.Series) -> pd.Series:
    return values.map(lambda v: not _missing(v)).astype(bool)


def _times(values: pd.Series) -> pd.Series:
    """Times in UTC: offsets converted, naive times taken as UTC, unparseable ones NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, utc=True)
    text = values.map(lambda v: None if _missing(v) else str(v))
    return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")


def _table(clean: pd.DataFrame, times: pd.Series | None, received: datetime) -> pa.Table:
    moment = pd.Timestamp(received)
    when = times.fillna(moment) if times is not None else pd.Series(moment, index=clean.index)
    return pa.table(
        {
            "request_id": pa.array(clean["request_id"].tolist(), pa.string()),
            "row": pa.array(clean["row"].to_numpy(dtype=np.int64) if len(clean) else []),
            "label": _label_array(clean["label"]),
            "time": pa.array(when.dt.as_unit("us").tolist(), TIME_TYPE),
            "received_at": pa.array([received] * len(clean), TIME_TYPE),
        }
    )


def _label_array(labels: pd.Series) -> pa.Array:
    """Whole numbers as int64 (booleans as 0/1), other numbers as float64, the rest as text."""
    if pd.api.types.is_bool_dtype(labels) or pd.api.types.is_integer_dtype(labels):
        return pa.array(labels.to_numpy(dtype=np.int64))
    if pd.api.types.is_float_dtype(labels):
        return pa.array(labels.to_numpy(dtype=np.float64))
    values = labels.tolist()
    if all(isinstance(v, bool | np.bool_) for v in values):
        return pa.array([int(v) for v in values], pa.int64())
    return pa.array([str(v) for v in values], pa.string())


def _missing(value: object) -> bool:
    """None, NaN, NaT, NA and blank text (an empty CSV cell) all mean "not given"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and np.isnan(value)


def _compare(home: Path, model: str, table: pa.Table) -> tuple[tuple[int, int], list[str]]:
    """How many new request ids the log lacks, and how many new keys were labelled before."""
    logged = model_files(inference_root(home), model)
    labelled = model_files(labels_root(home), model)
    keys = table.select(_KEY)

    def run(files: list[Path]) -> tuple[int, int]:
        logs, labels = [f for f in files if f in logged], [f for f in files if f in labelled]
        with duckdb.connect() as con:
            con.register("new", keys)
            unknown = "SELECT count(DISTINCT request_id) FROM new"
            if logs:
                unknown += f" WHERE request_id NOT IN (SELECT request_id FROM {_read(logs)})"
            earlier = "SELECT 0"
            if labels:
                earlier = (
                    f"SELECT count(*) FROM new n WHERE EXISTS (SELECT 1 FROM {_read(labels)} o "
                    'WHERE o.request_id = n.request_id AND o."row" = n."row")'
                )
            return _count(con, unknown), _count(con, earlier)

    return resilient(logged + labelled, run)


__all__ = [
    "LabelReceipt",
    "add_labels",
    "home_of",
    "labelled_records",
    "labels_root",
    "list_labels",
    "model_files",
    "read_labels",
    "resilient",
    "window_table",
]

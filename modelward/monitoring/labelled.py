"""Reading labels: the labels in force, and a window of the log joined to them (DuckDB).

A label belongs to the log row with the same ``(request_id, row)``; when several exist, the one
received last wins (then the later file). Files DuckDB cannot read are skipped and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd
import pyarrow as pa

from modelward.config import Settings
from modelward.errors import InvalidDataError
from modelward.monitoring.inference_log import inference_root
from modelward.monitoring.logquery import _quote, _source, _unreadable
from modelward.monitoring.tables import META_SCHEMA, TIME_TYPE
from modelward.monitoring.windows import to_utc
from modelward.refs import check_name

T = TypeVar("T")


def labels_root(home: Path) -> Path:
    """Where the labels of a ``MODELWARD_HOME`` live."""
    return home / "labels"


def home_of(settings_or_home: Settings | Path | str) -> Path:
    """The ``MODELWARD_HOME`` folder of settings or of a path."""
    if isinstance(settings_or_home, Settings):
        return settings_or_home.home
    return Path(settings_or_home)


def model_files(root: Path, model: str) -> list[Path]:
    """The Parquet files of one model under ``root`` (the log's or the labels'), oldest first."""
    return sorted((root / f"model={check_name(model)}").glob("date=*/*.parquet"))


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _read(files: list[Path], *, filename: bool = False) -> str:
    paths = ", ".join(_quote(str(f)) for f in files)
    extra = ", filename = true" if filename else ""
    return f"read_parquet([{paths}], hive_partitioning = false, union_by_name = true{extra})"


def resilient(files: list[Path], run: Callable[[list[Path]], T]) -> tuple[T, list[str]]:
    """``run(files)``; if DuckDB fails, again without the files it cannot read (returned)."""
    try:
        return run(files), []
    except duckdb.Error as first:
        bad = _unreadable(files)
        if not bad:
            raise InvalidDataError(
                f"cannot read the inference log or labels: {first}",
                hint="see docs/labels-and-kpis.md for the files and their columns",
            ) from first
        return run([f for f in files if f not in bad]), [str(f) for f in bad]


def labelled_records(
    home: Settings | Path | str,
    model: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
) -> pd.DataFrame:
    """The model's answered rows (status 200) served in ``[start, end)`` that have a label:
    every log column plus ``label``, ``label_time`` and ``label_received_at``. Unreadable files
    are skipped and listed in ``df.attrs["skipped_files"]``."""
    table, skipped = window_table(home, model, start, end, labelled_only=True, version=version)
    frame = table.to_pandas()
    frame.attrs["skipped_files"] = skipped
    return frame


def window_table(
    home: Settings | Path | str,
    model: str,
    start: datetime,
    end: datetime,
    *,
    labelled_only: bool,
    version: int | None = None,
) -> tuple[pa.Table, list[str]]:
    """Log rows served in ``[start, end)`` joined to their labels in force: only labelled
    answered rows, or every row with ``label`` null where none came; and the skipped files."""
    root, start, end = home_of(home), to_utc(start), to_utc(end)
    logged = [f for f in model_files(inference_root(root), model) if _in_days(f, start, end)]
    labelled = model_files(labels_root(root), model)
    where = [f'i."time" >= {_moment(start)}', f'i."time" < {_moment(end)}']
    if labelled_only:
        where.append("i.status = 200")
    if version is not None:
        where.append(f"i.version = {int(version)}")

    def run(files: list[Path]) -> pa.Table:
        logs, labels = [f for f in files if f in logged], [f for f in files if f in labelled]
        if not logs:
            return _EMPTY
        sql = (
            f"WITH labels AS ({_latest(labels)}) "
            "SELECT i.*, l.label, l.label_time, l.label_received_at "
            f"FROM {_source([str(f) for f in logs])} i "
            f"{'JOIN' if labelled_only else 'LEFT JOIN'} labels l "
            'ON l.request_id = i.request_id AND l."row" = i."row" '
            f'WHERE {" AND ".join(where)} ORDER BY i."time", i.request_id, i."row"'
        )
        with _connect() as con:
            return con.sql(sql).to_arrow_table()

    return resilient(logged + labelled, run)


def list_labels(
    home: Settings | Path | str, model: str, *, limit: int | None = None
) -> pd.DataFrame:
    """The labels in force for ``model`` (the latest per ``(request_id, row)``), newest first;
    unreadable files are skipped and listed in ``df.attrs["skipped_files"]``."""
    files = model_files(labels_root(home_of(home)), model)
    tail = f" LIMIT {int(limit)}" if limit else ""

    def run(readable: list[Path]) -> pd.DataFrame:
        sql = f'{_latest(readable)} ORDER BY label_received_at DESC, request_id, "row"{tail}'
        with _connect() as con:
            frame: pd.DataFrame = con.sql(sql).df()
            return frame

    frame, skipped = resilient(files, run)
    frame.attrs["skipped_files"] = skipped
    return frame


def _latest(files: list[Path]) -> str:
    """SQL for the label in force per ``(request_id, row)``: the one received last."""
    if not files:
        return (
            'SELECT NULL::VARCHAR AS request_id, NULL::BIGINT AS "row", NULL::DOUBLE AS label, '
            "NULL::TIMESTAMPTZ AS label_time, NULL::TIMESTAMPTZ AS label_received_at WHERE false"
        )
    ranked = (
        'SELECT *, row_number() OVER (PARTITION BY request_id, "row" '
        "ORDER BY received_at DESC, filename DESC) AS rank_ "
        f"FROM {_read(files, filename=True)}"
    )
    return (
        'SELECT request_id, "row", label, "time" AS label_time, received_at AS label_received_at '
        f"FROM ({ranked}) WHERE rank_ = 1"
    )


def _in_days(file: Path, start: datetime, end: datetime) -> bool:
    """Whether a log file's UTC day (its ``date=`` folder) can hold rows of the window."""
    try:
        day = date.fromisoformat(file.parent.name.removeprefix("date="))
    except ValueError:
        return False
    return start.date() <= day <= (end - timedelta(microseconds=1)).date()


def _moment(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.isoformat()}'"


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    return con


_EMPTY = pa.schema(
    [
        *META_SCHEMA,
        pa.field("date", pa.date32()),
        pa.field("label", pa.float64()),
        pa.field("label_time", TIME_TYPE),
        pa.field("label_received_at", TIME_TYPE),
    ]
).empty_table()

"""SQL over the inference log: DuckDB in memory, one view ``inference`` over the Parquet files.

The connection can read only the log folder (external access is switched off and the
configuration locked), and only one ``SELECT`` statement is run, so a query can neither read
other files nor change anything.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pandas as pd

from modelward.errors import InvalidInputError, NotFoundError
from modelward.monitoring.inference_log import inference_root
from modelward.monitoring.partitions import FILE_GLOB

log = logging.getLogger(__name__)

VIEW = "inference"
_USER_ERRORS = (
    duckdb.ParserException,
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.PermissionException,
)


def query_logs(home: Path, sql: str, *, limit: int | None = None) -> pd.DataFrame:
    """Run one SELECT over view ``inference``; unreadable files are skipped and listed in
    ``df.attrs["skipped_files"]``."""
    _check_select(sql)
    root = inference_root(home).resolve()
    files = sorted(root.glob(FILE_GLOB))
    if not files:
        raise NotFoundError(
            f"no inference records yet in {root}",
            hint="records appear once a scoring server has served requests with logging on",
        )
    skipped: list[Path] = []
    try:
        frame = _run(root, _source(f"{root}/{FILE_GLOB}"), sql, limit)
    except _USER_ERRORS as exc:
        raise _invalid(exc) from exc
    except duckdb.Error as first:
        skipped = _unreadable(files)
        if not skipped:
            raise _invalid(first) from first
        log.warning("skipping %d unreadable inference log file(s): %s", len(skipped), skipped)
        readable = [f for f in files if f not in skipped]
        if not readable:
            raise NotFoundError(
                f"no readable inference records in {root}: all {len(files)} file(s) are damaged",
                hint="move the damaged files away; see docs/inference-log.md",
            ) from first
        try:
            frame = _run(root, _source([str(f) for f in readable]), sql, limit)
        except duckdb.Error as exc:
            raise _invalid(exc) from exc
    frame.attrs["skipped_files"] = [str(f) for f in skipped]
    return frame


def _check_select(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _invalid(exc) from exc
    hint = f"write one query such as: SELECT model, count(*) FROM {VIEW} GROUP BY model"
    if len(statements) != 1:
        raise InvalidInputError(
            f"expected one SELECT statement, got {len(statements)}: {sql!r}", hint=hint
        )
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name
        raise InvalidInputError(f"only queries can run on the log, not {kind}: {sql!r}", hint=hint)


def _invalid(exc: duckdb.Error) -> InvalidInputError:
    return InvalidInputError(
        f"the query failed: {exc}",
        hint=f"query the view {VIEW!r}; its columns are listed in docs/inference-log.md",
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(files: str | list[str]) -> str:
    paths = _quote(files) if isinstance(files, str) else "[" + ", ".join(map(_quote, files)) + "]"
    return (
        f"read_parquet({paths}, hive_partitioning = true, union_by_name = true, "
        "hive_types = {'model': 'VARCHAR', 'date': 'DATE'})"
    )


def _run(root: Path, source: str, sql: str, limit: int | None) -> pd.DataFrame:
    with _connect(root) as con:
        con.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM {source}")
        relation = con.sql(sql)
        if limit is not None:
            relation = relation.limit(limit)
        frame: pd.DataFrame = relation.df()
        return frame


def _connect(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET allowed_directories = ?", [[f"{root}/"]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _unreadable(files: list[Path]) -> list[Path]:
    """Files DuckDB cannot read (tried one by one, only after a query failed): footers first,
    then, if every footer is fine, every row."""
    with duckdb.connect() as con:
        for check in ("SELECT * FROM parquet_metadata({})", "SELECT * FROM read_parquet({})"):
            bad = []
            for file in files:
                try:
                    for _batch in con.sql(check.format(_quote(str(file)))).to_arrow_reader(65_536):
                        pass
                except duckdb.Error:
                    bad.append(file)
            if bad:
                return bad
    return []

"""Tabular files (CSV, Parquet, JSON lines) read in chunks and written atomically."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelward.errors import InvalidDataError, InvalidInputError

#: Bytes of CSV read at a time (column types are guessed from the first block).
CSV_BLOCK_BYTES = 1 << 22
_CSV_NULLS = frozenset(pacsv.ConvertOptions().null_values)
_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): CSV conversion error")

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def file_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``jsonl`` from the file name."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"cannot tell the format of {path.name}",
            hint="use a .csv, .parquet or .jsonl (JSON lines) file",
        )
    return fmt


def existing_file(path: str | Path) -> Path:
    """``path`` resolved, refused unless it is an existing regular file."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise InvalidInputError(f"no such file: {resolved}")
    return resolved


class ChunkReader:
    """Iterate a data file as frames of about ``chunk_rows`` rows; ``progress`` is 0..1."""

    def __init__(self, path: Path, chunk_rows: int = 65_536) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self.format = file_format(path)
        self._fh: IO[bytes] | None = None
        self._total_rows: int | None = None
        self._rows = 0
        self._names: list[str] = []

    @property
    def progress(self) -> float:
        if self._total_rows:
            return min(1.0, self._rows / self._total_rows)
        if self._fh is not None and not self._fh.closed:
            size = os.fstat(self._fh.fileno()).st_size
            return min(1.0, self._fh.tell() / size) if size else 1.0
        return 1.0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        try:
            if self.format == "parquet":
                yield from self._parquet()
            elif self.format == "csv":
                yield from self._csv()
            else:
                yield from self._jsonl()
        except (pa.ArrowInvalid, ValueError, UnicodeDecodeError) as exc:
            raise InvalidDataError(
                f"cannot read {self.path.name} after row {self._rows}: {_first_line(exc)}",
                hint=f"check that the file is valid {self.format}",
            ) from exc
        finally:
            if self._fh is not None:
                self._fh.close()

    def _parquet(self) -> Iterator[pd.DataFrame]:
        # Pre-buffering (pyarrow's default) keeps whole row groups of raw bytes around, which
        # grows memory with the file; a small read buffer keeps it flat at the same speed.
        pf = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=1 << 20)
        self._total_rows = pf.metadata.num_rows
        for batch in pf.iter_batches(batch_size=self.chunk_rows):
            yield self._count(batch.to_pandas())

    def _csv(self) -> Iterator[pd.DataFrame]:
        # Column types are guessed from the first block; a later value that does not fit (a
        # typo in a number column) would end the read. Read such a column as text from the
        # current chunk on instead, so that validation can name (or skip) the bad rows.
        text: list[str] = []
        while True:
            try:
                yield from self._csv_from(self._rows, text)
                return
            except pa.ArrowInvalid as exc:
                column = _unconvertible_column(exc, self._names)
                if column is None or column in text:
                    raise
                text.append(column)

    def _csv_from(self, skip: int, text: list[str]) -> Iterator[pd.DataFrame]:
        if self._fh is not None:
            self._fh.close()
        self._fh = self.path.open("rb")
        reader = pacsv.open_csv(
            self._fh,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, skip_rows_after_names=skip),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(text, pa.string())),
        )
        self._names = reader.schema.names
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            if count >= self.chunk_rows:
                yield self._count(_as_nulls(pa.Table.from_batches(pending).to_pandas(), text))
                pending, count = [], 0
        if pending:
            yield self._count(_as_nulls(pa.Table.from_batches(pending).to_pandas(), text))

    def _jsonl(self) -> Iterator[pd.DataFrame]:
        self._fh = self.path.open("rb")
        with pd.read_json(self._fh, lines=True, chunksize=self.chunk_rows, dtype=False) as chunks:
            for chunk in chunks:
                yield self._count(chunk.reset_index(drop=True))

    def _count(self, frame: pd.DataFrame) -> pd.DataFrame:
        self._rows += len(frame)
        return frame


def read_table(path: str | Path, *, limit: int | None = None) -> pd.DataFrame:
    """Read a whole (small) data file, or its first ``limit`` rows."""
    file = existing_file(path)
    frames = []
    rows = 0
    for chunk in ChunkReader(file, chunk_rows=limit or 65_536):
        frames.append(chunk)
        rows += len(chunk)
        if limit is not None and rows >= limit:
            break
    if not frames:
        raise InvalidDataError(f"{file.name} holds no rows")
    frame = pd.concat(frames, ignore_index=True)
    return frame.head(limit) if limit is not None else frame


class AtomicFile:
    """A temporary file next to ``path``, renamed onto it on success and removed on failure.

    A failed run leaves no file at the target path (and any older file there untouched), so a
    truncated output can never be mistaken for a complete one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: Path | None = None
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if not self.path.parent.is_dir():
            raise InvalidInputError(f"output folder {self.path.parent} does not exist")
        fd, name = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        self._fh = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        return self._fh

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fh is not None and self._tmp is not None
        try:
            try:
                if exc_type is None:
                    self._fh.flush()
                    os.fsync(self._fh.fileno())
            finally:
                self._fh.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)


class AtomicWriter:
    """Write frames to a data file through an :class:`AtomicFile` (renamed in on success)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = file_format(path)
        self.rows = 0
        self._file = AtomicFile(path)
        self._writer: Any = None
        self._schema: pa.Schema | None = None
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> AtomicWriter:
        self._fh = self._file.__enter__()
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk."""
        assert self._fh is not None
        if self.format == "jsonl":
            if len(frame):
                text = frame.to_json(orient="records", lines=True, date_format="iso")
                self._fh.write(text.encode() if text.endswith("\n") else (text + "\n").encode())
        else:
            table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
            if self._writer is None:
                self._schema = table.schema
                if self.format == "parquet":
                    self._writer = pq.ParquetWriter(self._fh, table.schema)
                else:
                    self._writer = pacsv.CSVWriter(self._fh, table.schema)
            self._writer.write_table(table)
        self.rows += len(frame)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
        except BaseException as error:  # an unfinished file must not be renamed into place
            self._file.__exit__(type(error), error, error.__traceback__)
            raise
        self._file.__exit__(exc_type, exc, tb)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _unconvertible_column(exc: pa.ArrowInvalid, names: list[str]) -> str | None:
    """The column a CSV conversion error is about, when the message names one."""
    match = _CONVERSION_ERROR.search(str(exc))
    index = int(match.group(1)) if match else -1
    return names[index] if 0 <= index < len(names) else None


def _as_nulls(frame: pd.DataFrame, text: list[str]) -> pd.DataFrame:
    """Columns read as text hold the CSV null markers ("", "NA", …) as nulls, like the others."""
    for name in text:
        frame[name] = frame[name].mask(frame[name].isin(_CSV_NULLS))
    return frame

"""Tabular files (CSV, Parquet, JSON lines) read in chunks and written atomically."""

from __future__ import annotations

import os
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
        pf = pq.ParquetFile(self.path)
        self._total_rows = pf.metadata.num_rows
        for batch in pf.iter_batches(batch_size=self.chunk_rows):
            yield self._count(batch.to_pandas())

    def _csv(self) -> Iterator[pd.DataFrame]:
        self._fh = self.path.open("rb")
        reader = pacsv.open_csv(self._fh, read_options=pacsv.ReadOptions(block_size=1 << 22))
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            if count >= self.chunk_rows:
                yield self._count(pa.Table.from_batches(pending).to_pandas())
                pending, count = [], 0
        if pending:
            yield self._count(pa.Table.from_batches(pending).to_pandas())

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


class AtomicWriter:
    """Write frames to a data file under a temporary name; rename into place on success.

    A failed run leaves no file at the target path (and any older file there untouched), so a
    truncated output can never be mistaken for a complete one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = file_format(path)
        self.rows = 0
        self._tmp: Path | None = None
        self._writer: Any = None
        self._schema: pa.Schema | None = None
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> AtomicWriter:
        if not self.path.parent.is_dir():
            raise InvalidInputError(f"output folder {self.path.parent} does not exist")
        fd, name = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        self._fh = os.fdopen(fd, "wb")
        self._tmp = Path(name)
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
        assert self._fh is not None and self._tmp is not None
        try:
            if self._writer is not None:
                self._writer.close()
            self._fh.flush()
            os.fsync(self._fh.fileno())
        finally:
            self._fh.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

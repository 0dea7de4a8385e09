"""Score a data file with a loaded model, chunk by chunk, in input order.

Chunks are read one at a time (memory stays bounded whatever the file size), scored in this
process or by worker processes, and written in input order under a temporary name that is
renamed into place only when the whole run succeeded. With ``on_error="skip"`` rows that cannot
be scored are left out and listed, with their reasons, in a JSON-lines report.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelward.batch.chunks import ON_ERROR, Chunk, ChunkJob
from modelward.batch.files import AtomicWriter, ChunkReader, existing_file
from modelward.batch.parallel import ProcessScorer, score_in_process
from modelward.batch.skips import SkipReport
from modelward.errors import InvalidInputError
from modelward.registry.loaded import LoadedModel

Progress = Callable[[int, float], None]


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did."""

    rows_in: int
    rows_out: int
    output: Path
    rows_skipped: int = 0
    skipped_report: Path | None = None


def predict_file(
    model: LoadedModel,
    input_path: str | Path,
    output_path: str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    chunk_rows: int = 65_536,
    keep_columns: list[str] | None = None,
    on_progress: Progress | None = None,
    on_error: str = "fail",
    skipped_path: str | Path | None = None,
    workers: int = 1,
) -> BatchResult:
    """Predict every row of ``input_path`` into ``output_path`` (written only on success).

    Rows keep their input order; ``keep_columns`` copies input columns (e.g. an id) next to
    the predictions. ``on_error="skip"`` leaves out rows that break the signature or make the
    model fail and lists them in ``skipped_path`` (default ``<output>.skipped.jsonl``).
    ``workers`` > 1 scores chunks in that many processes, each loading the model once.
    """
    source = existing_file(input_path)
    target = Path(output_path).expanduser().resolve()
    if target == source:
        raise InvalidInputError("the output file would overwrite the input file")
    if chunk_rows < 1:
        raise InvalidInputError(f"chunk size must be at least 1, got {chunk_rows}")
    if workers < 1:
        raise InvalidInputError(f"workers must be at least 1, got {workers}")
    if on_error not in ON_ERROR:
        raise InvalidInputError(
            f"unknown on-error mode {on_error!r}", hint=f"use one of: {', '.join(ON_ERROR)}"
        )
    if skipped_path is not None and on_error != "skip":
        raise InvalidInputError(
            "a report of skipped rows needs --on-error skip", hint="add --on-error skip"
        )
    report = _report_path(source, target, skipped_path) if on_error == "skip" else None
    job = ChunkJob(dict(params or {}), tuple(keep_columns or ()), on_error)
    reader = ChunkReader(source, chunk_rows=chunk_rows)
    rows_in = 0
    with ExitStack() as stack:
        writer = stack.enter_context(AtomicWriter(target))
        skips = stack.enter_context(SkipReport(report)) if report is not None else None
        if workers > 1:
            results = stack.enter_context(ProcessScorer(model, workers)).results(
                _chunks(reader), job
            )
        else:
            results = score_in_process(model, prefetch(_chunks(reader)), job)
        for progress, result in results:
            if len(result.frame):  # a chunk whose rows were all skipped has nothing to write
                writer.write(result.frame)
            if skips is not None:
                skips.add(result.skipped)
            rows_in += result.rows_in
            if on_progress is not None:
                on_progress(rows_in, progress)
    return BatchResult(rows_in, writer.rows, target, skips.rows if skips is not None else 0, report)


def _chunks(reader: ChunkReader) -> Iterator[Chunk]:
    offset = 0
    for frame in reader:
        yield Chunk(offset, frame, reader.progress)
        offset += len(frame)


def _report_path(source: Path, target: Path, given: str | Path | None) -> Path:
    report = (
        Path(given).expanduser().resolve()
        if given is not None
        else target.with_name(f"{target.name}.skipped.jsonl")
    )
    if report in (source, target):
        raise InvalidInputError(
            f"the report of skipped rows would overwrite {report.name}",
            hint="choose another --skipped file",
        )
    return report


def prefetch(items: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """Read ahead in a thread: file decoding (which releases the GIL) overlaps with scoring.

    At most ``depth`` chunks wait, so memory stays bounded; a reading error is raised here.
    """
    waiting: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        waiting.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            waiting.put(("done", None))
        except BaseException as exc:  # handed to the consuming thread
            waiting.put(("error", exc))

    reader = threading.Thread(target=read, name="modelward-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = waiting.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        reader.join(5)

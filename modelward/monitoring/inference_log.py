"""The inference log: ``record()`` on the hot path, Parquet written by one background thread.

``record`` validates the record's shape (one check per column), then appends it to a bounded
in-memory queue. When the queue is full the record is appended to a spill file instead, so it
reaches the disk without waiting for Parquet. The writer thread drains the queue every
``flush_interval`` seconds (sooner once ``flush_rows`` rows wait), writes one Parquet file per
model and UTC day, and turns spill files into Parquet too. See docs/inference-log.md.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from datetime import date
from pathlib import Path
from types import TracebackType

from modelward.errors import ConflictError, InvalidInputError, UnavailableError
from modelward.monitoring import partitions
from modelward.monitoring.records import InferenceRecord, check_record
from modelward.monitoring.recovery import recover_spill
from modelward.monitoring.spill import SpillFile, SpillWriter, claim_orphans
from modelward.monitoring.tables import records_table

log = logging.getLogger(__name__)

__all__ = ["InferenceLog", "InferenceRecord", "inference_root"]

SPILL_DIR = "_spill"
#: What :meth:`InferenceLog.stats` counts; docs/inference-log.md explains each.
COUNTERS = (
    "recorded",  # accepted by record()
    "written",  # of those, now in Parquet
    "spilled",  # of those, went through a spill file because the queue was full
    "recovered",  # records of earlier processes' spill files, now in Parquet
    "unrecoverable",  # damaged or cut-off spill frames that could not be read back
    "rejected",  # refused by record() with UnavailableError: the spill file could not be written
    "dropped",  # accepted and lost: only if the disk fails while closing (logged CRITICAL)
    "write_errors",  # failed write attempts (each is retried)
)
_MAX_RETRY_DELAY = 30.0


def inference_root(home: Path) -> Path:
    """Where the inference log of a ``MODELWARD_HOME`` lives."""
    return home / "inference"


class InferenceLog:
    """Accepts inference records without blocking and writes them to Parquet under ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        max_queue: int = 10_000,
        flush_interval: float = 1.0,
        flush_rows: int = 50_000,
    ) -> None:
        if max_queue < 0 or flush_interval <= 0 or flush_rows < 1:
            raise InvalidInputError(
                f"invalid inference log settings: max_queue={max_queue}, "
                f"flush_interval={flush_interval}, flush_rows={flush_rows}",
                hint="use max_queue >= 0, flush_interval > 0 and flush_rows >= 1",
            )
        self.root = root
        self.max_queue = max_queue
        self.flush_interval = flush_interval
        self.flush_rows = flush_rows
        self._lock = threading.Lock()
        self._queue: deque[InferenceRecord] = deque()
        self._queued_rows = 0
        self._pending: list[InferenceRecord] = []  # drained, not yet written (a write failed)
        self._sealed: list[SpillFile] = []  # this process's spill files, waiting for Parquet
        self._spill = SpillWriter(root / SPILL_DIR, f"{os.getpid()}-{time.time_ns()}")
        self._seq = itertools.count()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._last_error: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._closed = False

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Recover spill files left by crashed processes, then start the writer thread."""
        with self._lock:
            if self._started or self._closed:
                raise ConflictError(
                    "this inference log was already started",
                    hint="create one InferenceLog per process and start it once",
                )
            self._started = True
        self.root.mkdir(parents=True, exist_ok=True)
        partitions.clean_temp_files(self.root)
        for orphan in claim_orphans(self.root / SPILL_DIR):
            try:
                result = recover_spill(orphan, self.root)
            except Exception:
                orphan.close()
                log.exception("cannot recover spill file %s; it stays for the next start", orphan)
                continue
            self._add(recovered=result.records, unrecoverable=result.damaged)
            log.info("recovered %d inference record(s) from %s", result.records, orphan.path)
        thread = threading.Thread(target=self._run, name="modelward-inference-log", daemon=False)
        thread.start()
        with self._lock:
            self._thread = thread

    def close(self, timeout: float = 30.0) -> dict[str, int]:
        """Stop accepting records, write everything to Parquet and join the writer thread.

        Raises UnavailableError if that is not done within ``timeout`` seconds; records that
        could not be written then stay in spill files for the next start.
        """
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:  # never started: write in the caller's thread
            if self._flush():
                self._spill.close()
            else:
                self._evacuate()
        elif thread.is_alive():
            self._stopping.set()
            self._wake.set()
            thread.join(timeout)
            if thread.is_alive():
                self._abandon.set()
                self._wake.set()
                thread.join(timeout)
        stats = self.stats()
        if (thread is not None and thread.is_alive()) or stats["written"] < stats["recorded"]:
            missing = stats["recorded"] - stats["written"]
            raise UnavailableError(
                f"the inference log could not write {missing} record(s) to Parquet under "
                f"{self.root} within {timeout:g}s (last error: {self.last_error})",
                hint=f"free disk space; records kept in {self.root / SPILL_DIR} are written the "
                "next time a log starts on this folder",
            )
        return stats

    def __enter__(self) -> InferenceLog:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # --- the hot path ---------------------------------------------------------------------------
    def record(self, record: InferenceRecord) -> None:
        """Accept one record: O(1) into memory, or one append to a spill file when it is full."""
        rows = check_record(record)
        with self._lock:
            if self._closed:
                raise UnavailableError(
                    "the inference log is closed", hint="record before calling close()"
                )
            if len(self._queue) < self.max_queue:
                self._queue.append(record)
                self._queued_rows += rows
                self._counts["recorded"] += 1
                if self._queued_rows >= self.flush_rows:
                    self._wake.set()
                return
            try:
                self._spill.append(records_table([record]))
            except OSError as exc:
                self._counts["rejected"] += 1
                log.error("inference log: cannot spill record %s: %s", record.request_id, exc)
                raise UnavailableError(
                    f"the inference log queue is full and the spill file cannot be written "
                    f"({exc.strerror}); record {record.request_id!r} was not logged",
                    hint=f"free disk space under {self.root}",
                ) from exc
            self._counts["recorded"] += 1
            self._counts["spilled"] += 1
            if self._counts["spilled"] % 10_000 == 1:
                log.warning(
                    "inference log queue full (%d records): spilling to %s (%d so far)",
                    self.max_queue,
                    self._spill.folder,
                    self._counts["spilled"],
                )

    def stats(self) -> dict[str, int]:
        """A snapshot of the counters (see :data:`COUNTERS`) plus ``queued``: records in memory."""
        with self._lock:
            return {**self._counts, "queued": len(self._queue) + len(self._pending)}

    @property
    def last_error(self) -> str | None:
        """The last write failure, if any (``write_errors`` counts them)."""
        with self._lock:
            return self._last_error

    # --- the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.flush_interval
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            stopping = self._stopping.is_set()  # read before flushing: nothing arrives after it
            ok = self._flush()
            if ok and stopping:
                self._spill.close()
                return
            if not ok and self._abandon.is_set():
                self._evacuate()
                return
            delay = self.flush_interval if ok else min(max(delay * 2, 1.0), _MAX_RETRY_DELAY)

    def _flush(self) -> bool:
        """Write what waits; False (logged, counted, kept for a retry) when a write fails."""
        try:
            if self._pending:
                self._write(self._pending)
            with self._lock:  # O(1) under the lock: record() must never wait long for it
                drained, self._queue, self._queued_rows = self._queue, deque(), 0
                sealed = self._spill.seal()
            if sealed is not None:
                self._sealed.append(sealed)
            self._pending = list(drained)
            self._write(self._pending)
            while self._sealed:
                result = recover_spill(self._sealed[0], self.root)
                self._add(written=result.records, unrecoverable=result.damaged)
                self._sealed.pop(0)
        except Exception as exc:
            with self._lock:
                self._counts["write_errors"] += 1
                self._last_error = f"{type(exc).__name__}: {exc}"
            log.error("inference log: write to %s failed; will retry", self.root, exc_info=True)
            return False
        return True

    def _write(self, records: list[InferenceRecord]) -> None:
        """One Parquet file per (model, day); ``self._pending`` keeps what is not yet written."""
        groups: dict[tuple[str, date], list[InferenceRecord]] = {}
        for record in records:
            groups.setdefault((record.model, record.day), []).append(record)
        keys = sorted(groups)
        for index, key in enumerate(keys):
            folder = partitions.partition_dir(self.root, *key)
            name = partitions.part_name(next(self._seq))
            partitions.write_table(folder, name, records_table(groups[key]))
            rest = [record for later in keys[index + 1 :] for record in groups[later]]
            with self._lock:
                self._pending = rest
                self._counts["written"] += len(groups[key])

    def _evacuate(self) -> None:
        """Closing failed: move every record still in memory to a spill file for the next start."""
        with self._lock:
            records = self._pending + list(self._queue)
            self._pending, self._queue = [], deque()
            lost = 0
            for record in records:
                try:
                    self._spill.append(records_table([record]))
                except Exception:
                    lost += 1
            self._counts["dropped"] += lost
            self._spill.close()
            for sealed in self._sealed:
                sealed.close()  # still complete on disk; the next start recovers them
        if lost:
            log.critical("inference log: %d record(s) could not be written anywhere", lost)
        else:
            log.error("inference log: %d record(s) left in %s", len(records), self._spill.folder)

    def _add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                self._counts[key] += value

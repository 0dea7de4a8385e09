"""Chunks scored by worker processes, each holding its own copy of the model; results in order.

Workers are started with ``spawn`` (no forked copies of the parent's threads or connections)
and each loads the model once, by its exact ``NAME/VERSION``, with the settings of the
environment (``MODELWARD_*``). At most twice as many chunks as workers are in flight, so memory
stays bounded whatever the file size, and results are handed back in input order.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any

import pandas as pd

from modelward.batch.chunks import Chunk, ChunkJob, ChunkResult, score_chunk
from modelward.client import Client
from modelward.errors import ConflictError, ModelFailedError, WorkerUnavailableError
from modelward.registry.loaded import LoadedModel

#: A chunk's result with how far through the input file its last row was (0..1).
Scored = tuple[float, ChunkResult]

_worker: dict[str, Any] = {}  # in a worker process: its model, or the error loading it


def score_in_process(
    model: LoadedModel, chunks: Iterable[Chunk], job: ChunkJob
) -> Iterator[Scored]:
    """Score ``chunks`` one after the other in this process (``--workers 1``)."""
    for chunk in chunks:
        yield chunk.progress, score_chunk(model, chunk.frame, chunk.offset, job)


class ProcessScorer:
    """A pool of ``workers`` processes scoring chunks with the model ``ref`` (``NAME/N``)."""

    def __init__(self, model: LoadedModel, workers: int) -> None:
        self.ref = model.version.ref
        self.digest = model.version.digest
        self.workers = workers
        self.in_flight = 2 * workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessScorer:
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(self.ref, self.digest),
        )
        return self

    def results(self, chunks: Iterable[Chunk], job: ChunkJob) -> Iterator[Scored]:
        """Score ``chunks`` in the pool; yield each with its result, in input order."""
        assert self._pool is not None
        pending: deque[tuple[float, Future[ChunkResult]]] = deque()
        try:
            for chunk in chunks:
                future = self._pool.submit(_score, chunk.frame, chunk.offset, job)
                pending.append((chunk.progress, future))
                if len(pending) >= self.in_flight:
                    yield _collect(pending.popleft())
            while pending:
                yield _collect(pending.popleft())
        except BrokenProcessPool as exc:
            raise WorkerUnavailableError(
                f"a worker process scoring {self.ref} died; nothing was written",
                hint="the model may have crashed its process (native code, out of memory, "
                "os._exit): run with --workers 1 to see its error, or use a smaller --chunk-rows",
            ) from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _collect(item: tuple[float, Future[ChunkResult]]) -> Scored:
    progress, future = item
    return progress, future.result()


# --- in the worker processes ------------------------------------------------------------------
def _load(ref: str, digest: str) -> None:
    """Pool initializer: load the model once; a failure is raised by every task instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        model = Client().load_model(ref)
        if model.version.digest != digest:
            raise ConflictError(
                f"worker processes loaded a different {ref} (digest {model.version.digest[:12]}) "
                f"than the run started with ({digest[:12]})",
                hint="workers read the registry from the MODELWARD_* environment variables; "
                "score with those settings or with --workers 1",
            )
        _worker["model"] = model
    except Exception as exc:
        _worker["error"] = _sendable(exc)


def _score(frame: pd.DataFrame, offset: int, job: ChunkJob) -> ChunkResult:
    if "error" in _worker:
        raise _worker["error"]
    try:
        return score_chunk(_worker["model"], frame, offset, job)
    except Exception as exc:
        sendable = _sendable(exc)
        if sendable is exc:
            raise
        raise sendable from None


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` when it survives the trip to the parent process, else a plain stand-in."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return ModelFailedError(f"{type(exc).__name__}: {exc}")
    return exc

"""N copies of one program: a request takes a free copy or waits for one (backpressure).

A copy is in the free queue only while its process is ready. A failed copy leaves the queue and
is restarted by a background thread, which puts it back once it has shaken hands again. A large
frame is split into one chunk per copy, scored in parallel and joined in row order.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from modelward.errors import (
    ModelFailedError,
    OverloadedError,
    UnavailableError,
    WorkerUnavailableError,
)
from modelward.runtimes.process.child import ChildFailure
from modelward.runtimes.process.protocol import Description, to_wire
from modelward.runtimes.process.supervisor import Copy

#: A frame is split across copies only when each chunk gets at least this many rows.
MIN_CHUNK_ROWS = 256
#: No single request carries more rows than this.
MAX_CHUNK_ROWS = 50_000


def chunk_bounds(rows: int, copies: int) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` to send, one per request, in order."""
    parts = max(1, min(copies, rows // MIN_CHUNK_ROWS), -(-rows // MAX_CHUNK_ROWS))
    edges = [rows * i // parts for i in range(parts + 1)]
    return list(itertools.pairwise(edges))


class Pool:
    """The copies of one program, handed out one request at a time."""

    def __init__(self, copies: Sequence[Copy], queue_timeout: float) -> None:
        self.copies = list(copies)
        self.queue_timeout = queue_timeout
        self._free: queue.Queue[Copy] = queue.Queue()
        self._closing = threading.Event()
        self._restarters: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(len(self.copies), thread_name_prefix="process-chunk")

    def start(self) -> Description:
        """Start every copy in parallel; if one fails, stop them all and raise its failure."""
        with ThreadPoolExecutor(len(self.copies)) as starter:
            futures = [starter.submit(copy.start) for copy in self.copies]
        failures = [f.exception() for f in futures if f.exception() is not None]
        if failures:
            self.close()
            raise failures[0]  # type: ignore[misc]
        descriptions = [f.result() for f in futures]
        if any(d.signature != descriptions[0].signature for d in descriptions):
            self.close()
            raise ChildFailure("its copies describe different signatures")
        for copy in self.copies:
            self._free.put(copy)
        return descriptions[0]

    def run(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any], rows: int
    ) -> dict[str, list[Any]]:
        """Score the rows, split across copies when the frame is large."""
        bounds = chunk_bounds(rows, len(self.copies))
        if len(bounds) == 1:
            return self._one(columns, params, 0, rows)
        futures = [self._executor.submit(self._one, columns, params, a, b) for a, b in bounds]
        parts = [f.result() for f in futures]
        names = list(parts[0])
        if any(list(part) != names for part in parts):
            raise ModelFailedError("the program's copies answered different output columns")
        return {name: [v for part in parts for v in part[name]] for name in names}

    def stats(self) -> list[dict[str, Any]]:
        """Per-copy pid, state, restarts, requests, failures, CPU seconds and RSS bytes."""
        return [copy.stats() for copy in self.copies]

    def close(self) -> None:
        """Ask idle copies to shut down, kill the rest, and stop restarting."""
        self._closing.set()
        idle = []
        while True:
            try:
                idle.append(self._free.get_nowait())
            except queue.Empty:
                break
        for copy in idle:
            copy.ask_to_stop()
        for copy in self.copies:
            copy.shutdown(polite=copy in idle)
        with self._lock:
            restarters = list(self._restarters)
        for thread in restarters:
            thread.join(timeout=5.0)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _one(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any], start: int, stop: int
    ) -> dict[str, list[Any]]:
        wire = to_wire({name: array[start:stop] for name, array in columns.items()})
        copy = self._acquire()
        try:
            return copy.request(wire, params, stop - start)
        finally:
            self._release(copy)

    def _acquire(self) -> Copy:
        if self._closing.is_set():
            raise WorkerUnavailableError("the model was unloaded", hint="load it again")
        deadline = time.monotonic() + self.queue_timeout
        while True:
            try:
                copy = self._free.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise self._unavailable() from None
            if self._closing.is_set():
                raise WorkerUnavailableError("the model was unloaded", hint="load it again")
            problem = copy.idle_problem()
            if problem is None:
                copy.state = "busy"
                return copy
            copy.discard(problem)
            self._restart(copy)

    def _release(self, copy: Copy) -> None:
        if self._closing.is_set():
            return
        if copy.running():
            copy.state = "ready"
            self._free.put(copy)
        else:
            self._restart(copy)

    def _restart(self, copy: Copy) -> None:
        if self._closing.is_set():
            return
        thread = threading.Thread(
            target=self._restart_then_free, args=(copy,), name=f"process-restart-{copy.index}"
        )
        thread.daemon = True
        with self._lock:
            self._restarters = [t for t in self._restarters if t.is_alive()] + [thread]
        thread.start()

    def _restart_then_free(self, copy: Copy) -> None:
        if copy.recover(self._closing) and not self._closing.is_set():
            self._free.put(copy)

    def _unavailable(self) -> UnavailableError:
        command = " ".join(self.copies[0].launch.argv)
        if any(copy.state in ("busy", "ready") for copy in self.copies):
            return OverloadedError(
                f"all {len(self.copies)} copies of `{command}` stayed busy for "
                f"{self.queue_timeout:g} s",
                hint="retry later, or raise copies or queue_timeout_seconds",
            )
        last = next((c.last_error for c in self.copies if c.last_error), "unknown")
        return WorkerUnavailableError(
            f"no copy of `{command}` is ready: all are restarting; last failure: {last}",
            hint="retry shortly; if it persists, the program fails at start (see its stderr)",
        )

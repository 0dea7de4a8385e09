"""Adaptive batching: requests that queue while a model's workers are busy merge into one call.

When a worker is free, a request goes straight to it (no added latency at low load). While all
workers are busy, requests accumulate; the next free worker takes as many as fit into
``max_batch_size`` rows (waiting up to ``max_batch_time_ms`` for more, if set), scores them in one
predict call, and the answer is split back, each part to its own request.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from modelward.errors import ModelFailedError, OverloadedError
from modelward.scoring.pool import ModelPool, Worker

_key_encoder = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True)
class BatchConfig:
    """Batching limits of one model."""

    max_batch_size: int = 64
    max_batch_time_ms: float = 0.0
    max_queue: int = 1024
    row_wise: bool = True  # False: never merge (outputs are not one row per input row)


@dataclass
class _Pending:
    columns: Mapping[str, np.ndarray]
    params: Mapping[str, Any]
    rows: int
    key: bytes
    future: asyncio.Future[dict[str, np.ndarray]]
    enqueued: float = field(default_factory=time.perf_counter)


class Batcher:
    """The queue in front of one model's pool."""

    def __init__(
        self, pool: ModelPool, config: BatchConfig, on_batch: Callable[[int], None] | None = None
    ) -> None:
        self.pool = pool
        self.config = config
        self._queue: deque[_Pending] = deque()
        self._arrived = asyncio.Event()
        self._on_batch = on_batch
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        """Start dispatching."""
        self._dispatcher = asyncio.create_task(self._dispatch())

    async def submit(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any], rows: int
    ) -> dict[str, np.ndarray]:
        """Score one request's columns; resolves when its part of a batch is back."""
        if len(self._queue) >= self.config.max_queue:
            raise OverloadedError(
                f"{len(self._queue)} requests are already waiting for model {self.pool.ref}",
                hint="retry shortly, or start more workers (--model-workers)",
            )
        if not self._queue and (worker := self.pool.try_acquire()) is not None:
            # Fast path: a worker is idle and nobody waits: no queue, no dispatcher hop.
            try:
                outputs = await worker.call(columns, params)
            finally:
                await self.pool.release(worker)
            if self._on_batch:
                self._on_batch(rows)
            return outputs
        key = _key_encoder.encode(dict(params)) if params else b""
        future: asyncio.Future[dict[str, np.ndarray]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(columns, params, rows, key, future))
        self._arrived.set()
        return await future

    async def _dispatch(self) -> None:
        while True:
            if not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            try:
                worker = await self.pool.acquire()
            except Exception as exc:  # no worker alive: answer now (503), never hang
                while self._queue:
                    pending = self._queue.popleft()
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            if self.config.max_batch_time_ms > 0 and self.config.row_wise:
                await self._fill(self.config.max_batch_time_ms / 1000)
            batch = self._take()
            if not batch:
                await self.pool.release(worker)
                continue
            task = asyncio.create_task(self._run(worker, batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _fill(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while sum(p.rows for p in self._queue) < self.config.max_batch_size:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return

    def _take(self) -> list[_Pending]:
        while self._queue and self._queue[0].future.done():  # cancelled by a disconnected client
            self._queue.popleft()
        if not self._queue:
            return []
        first = self._queue.popleft()
        batch = [first]
        if not self.config.row_wise or first.rows == 0:
            return batch
        rows = first.rows
        kept: deque[_Pending] = deque()
        while self._queue and rows < self.config.max_batch_size:
            item = self._queue.popleft()
            if item.future.done():
                continue
            if (
                item.key == first.key
                and item.rows > 0
                and rows + item.rows <= self.config.max_batch_size
            ):
                batch.append(item)
                rows += item.rows
            else:
                kept.append(item)
        self._queue.extendleft(reversed(kept))
        return batch

    async def _run(self, worker: Worker, batch: list[_Pending]) -> None:
        try:
            columns = _merge([p.columns for p in batch]) if len(batch) > 1 else batch[0].columns
            outputs = await worker.call(columns, batch[0].params)
        except Exception as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        finally:
            await self.pool.release(worker)
        if self._on_batch:
            self._on_batch(sum(p.rows for p in batch))
        if len(batch) == 1:
            if not batch[0].future.done():
                batch[0].future.set_result(outputs)
            return
        total = sum(p.rows for p in batch)
        if any(len(a) != total for a in outputs.values()):
            error = ModelFailedError(
                f"model {self.pool.ref} returned a different number of rows than it was given"
            )
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        start = 0
        for pending in batch:
            part = {name: array[start : start + pending.rows] for name, array in outputs.items()}
            start += pending.rows
            if not pending.future.done():
                pending.future.set_result(part)

    async def close(self) -> None:
        """Stop taking batches; wait for the ones running (graceful shutdown)."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)


def _merge(parts: list[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

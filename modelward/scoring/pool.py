"""Model worker processes for one served model: start, supervise, restart, kill on timeout.

A worker that crashes, hangs or outgrows its memory ceiling fails only its own in-flight
requests (503 with Retry-After), and is restarted with exponential backoff; the server and
the other models keep answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelward.errors import (
    InvalidInputError,
    ModelFailedError,
    ModelwardError,
    WorkerUnavailableError,
)
from modelward.procstat import ProcStat, read_procstat
from modelward.scoring.ipc import HEADER, decode_columns, encode_columns, pack, unpack

log = logging.getLogger("modelward.scoring")
RETRY_AFTER_SECONDS = 1


class _Expired(Exception):
    """A request's answer did not come in time."""


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(_Expired())


@dataclass(frozen=True)
class PoolConfig:
    """How a model's workers run."""

    workers: int = 1
    request_timeout: float = 30.0
    memory_limit_mb: int | None = None
    start_timeout: float = 120.0
    backoff_initial: float = 0.2
    backoff_max: float = 30.0
    in_process: bool = False  # --isolation none: score inside the HTTP process


class Worker:
    """One model worker process and its socket."""

    def __init__(self, index: int, ref: str, config: PoolConfig) -> None:
        self.index = index
        self.ref = ref
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.alive = False
        self.load_seconds = 0.0
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.StreamReader | None = None
        self._next_id = 0
        self._reason: str | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        """Spawn the process and wait until its model is loaded."""
        parent, child = socket.socketpair()
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "modelward.scoring.worker",
                str(child.fileno()),
                self.ref,
                pass_fds=(child.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        finally:
            child.close()
        self._reader, self._writer = await asyncio.open_unix_connection(sock=parent)
        self._tasks.append(asyncio.create_task(self._drain_stderr()))
        hello = await asyncio.wait_for(self._read_frame(), self.config.start_timeout)
        if hello is None or hello.get("op") != "ready":
            reason = hello.get("error") if hello else "the worker exited while loading"
            await self.kill()
            raise WorkerUnavailableError(f"model worker for {self.ref} did not start: {reason}")
        self.load_seconds = float(hello["load_seconds"])
        self.alive = True
        self._tasks.append(asyncio.create_task(self._read_answers()))

    async def _read_frame(self) -> Any:
        assert self._reader is not None
        try:
            header = await self._reader.readexactly(HEADER.size)
            (size,) = HEADER.unpack(header)
            return unpack(await self._reader.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def _read_answers(self) -> None:
        while True:
            answer = await self._read_frame()
            if answer is None:
                break
            future = self.pending.pop(answer["id"], None)
            if future is not None and not future.done():
                future.set_result(answer)
        await self._died(self._reason or await self._exit_reason())

    async def _exit_reason(self) -> str:
        code = None
        if self.process is not None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(self.process.wait(), 2)
        if code is not None and code < 0:
            return f"the model worker was killed by signal {signal.Signals(-code).name}"
        if code is not None:
            return f"the model worker exited (code {code})"
        return "the model worker exited"

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for line in self.process.stderr:
            text = line.decode(errors="replace").rstrip()
            self.stderr_tail.append(text)
            log.warning("[%s worker %d] %s", self.ref, self.index, text)

    async def call(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        """Score one (merged) batch on this worker."""
        if not self.alive or self._writer is None:
            raise WorkerUnavailableError(f"model worker for {self.ref} is not running")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        self._writer.write(
            pack({"id": request_id, "columns": encode_columns(columns), "params": dict(params)})
        )
        timer = asyncio.get_running_loop().call_later(
            self.config.request_timeout, _expire, future
        )  # cheaper than wait_for on the hot path
        try:
            answer = await future
        except _Expired:
            await self.kill(
                f"no answer within {self.config.request_timeout:g} s; the worker was killed"
            )
            raise WorkerUnavailableError(
                f"model {self.ref} did not answer within {self.config.request_timeout:g} s",
                hint="the worker was restarted; retry, or raise the request timeout",
            ) from None
        finally:
            timer.cancel()
        if not answer["ok"]:
            status = int(answer.get("status", 500))
            error_cls = InvalidInputError if 400 <= status < 500 else ModelFailedError
            raise error_cls(answer["error"])
        return decode_columns(answer["columns"])

    async def _died(self, reason: str) -> None:
        if not self.alive and not self.pending:
            return
        self.alive = False
        tail = "; ".join(list(self.stderr_tail)[-3:])
        detail = f"{reason}{' — ' + tail if tail else ''}"
        for future in self.pending.values():
            if not future.done():
                future.set_exception(
                    WorkerUnavailableError(
                        f"model worker for {self.ref} failed: {detail}",
                        hint=f"retry after {RETRY_AFTER_SECONDS} s; the worker is being restarted",
                    )
                )
        self.pending.clear()

    async def kill(self, reason: str | None = None) -> None:
        """Stop the process now (SIGKILL); in-flight requests fail with ``reason``."""
        if reason is not None:
            self._reason = reason
            await self._died(reason)
        self.alive = False
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.process.wait(), 10)
        if self._writer is not None:
            self._writer.close()

    async def stop(self, grace: float = 5.0) -> None:
        """Close the socket (the worker exits on EOF); kill it if it lingers."""
        if self._writer is not None:
            self._writer.close()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                await self.kill()
        for task in self._tasks:
            task.cancel()
        self.alive = False

    def stat(self) -> ProcStat | None:
        """CPU seconds and RSS of the process, read from /proc."""
        return read_procstat(self.pid) if self.pid and self.alive else None


class ModelPool:
    """The workers of one served model; hands out idle ones and restarts dead ones."""

    def __init__(
        self, ref: str, config: PoolConfig, on_restart: Callable[[], None] | None = None
    ) -> None:
        self.ref = ref
        self.config = config
        self.workers = [self._new_worker(i) for i in range(config.workers)]
        self.restarts = 0
        self._idle: deque[Worker] = deque()
        self._changed = asyncio.Condition()
        self._closing = False
        self._on_restart = on_restart
        self._supervisor: asyncio.Task[None] | None = None

    def _new_worker(self, index: int) -> Worker:
        if self.config.in_process:
            from modelward.scoring.inprocess import InProcessWorker

            return InProcessWorker(index, self.ref, self.config)
        return Worker(index, self.ref, self.config)

    @property
    def alive(self) -> int:
        return sum(1 for w in self.workers if w.alive)

    @property
    def load_seconds(self) -> float:
        return max((w.load_seconds for w in self.workers), default=0.0)

    async def start(self) -> None:
        """Start every worker; raises if none of them loads the model."""
        results = await asyncio.gather(*(w.start() for w in self.workers), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if len(failures) == len(self.workers):
            raise failures[0]
        async with self._changed:
            self._idle.extend(w for w in self.workers if w.alive)
            self._changed.notify_all()
        self._supervisor = asyncio.create_task(self._supervise())

    async def acquire(self) -> Worker:
        """An idle live worker; fails at once (503) when no worker is alive."""
        async with self._changed:
            while True:
                while self._idle and not self._idle[0].alive:
                    self._idle.popleft()
                if self._idle:
                    return self._idle.popleft()
                if self.alive == 0 or self._closing:
                    raise WorkerUnavailableError(
                        f"no worker of {self.ref} is running (restarting after a failure)",
                        hint=f"retry after {RETRY_AFTER_SECONDS} s",
                    )
                await self._changed.wait()

    def try_acquire(self) -> Worker | None:
        """An idle live worker right now, without waiting, or ``None``."""
        while self._idle:
            worker = self._idle.popleft()
            if worker.alive:
                return worker
        return None

    async def release(self, worker: Worker) -> None:
        """Give a worker back after a batch."""
        async with self._changed:
            if worker.alive:
                self._idle.append(worker)
            self._changed.notify_all()

    async def _supervise(self) -> None:
        backoff = {w.index: self.config.backoff_initial for w in self.workers}
        while not self._closing:
            await asyncio.sleep(0.2)
            for worker in self.workers:
                limit = self.config.memory_limit_mb
                stat = worker.stat() if limit else None
                if worker.alive and limit and stat and stat.rss_bytes > limit * 1024 * 1024:
                    log.warning(
                        "%s worker %d uses %d MB > %d MB: killing it",
                        self.ref,
                        worker.index,
                        stat.rss_bytes >> 20,
                        limit,
                    )
                    await worker.kill(f"it used more than its memory ceiling of {limit} MB")
                if worker.alive or self._closing:
                    continue
                async with self._changed:
                    self._changed.notify_all()  # waiters learn that this worker is gone
                await asyncio.sleep(backoff[worker.index])
                backoff[worker.index] = min(backoff[worker.index] * 2, self.config.backoff_max)
                replacement = self._new_worker(worker.index)
                try:
                    await replacement.start()
                except (ModelwardError, OSError, TimeoutError) as exc:
                    log.error("restarting %s worker %d failed: %s", self.ref, worker.index, exc)
                    continue
                self.restarts += 1
                if self._on_restart:
                    self._on_restart()
                backoff[worker.index] = self.config.backoff_initial
                self.workers[worker.index] = replacement
                await self.release(replacement)

    async def close(self) -> None:
        """Stop supervising and stop every worker (after in-flight work, which the caller awaited)."""
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)

    def stats(self) -> list[dict[str, Any]]:
        """Per-worker pid, liveness, CPU seconds and RSS."""
        out = []
        for w in self.workers:
            stat = w.stat()
            out.append(
                {
                    "worker": w.index,
                    "pid": w.pid,
                    "alive": w.alive,
                    "cpu_seconds": stat.cpu_seconds if stat else None,
                    "rss_bytes": stat.rss_bytes if stat else None,
                }
            )
        return out

"""One supervised copy of the program: handshake, requests with a deadline, kill, restart.

Any failure (garbage on stdout, a wrong id or row count, an exit, no answer in time, memory
over the limit) kills the copy and fails the request it was on with a
:class:`~modelward.errors.WorkerUnavailableError` that says what happened. The copy is then
restarted after an exponential backoff, which resets once a copy has run healthily for a while.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelward.errors import ModelFailedError, WorkerUnavailableError
from modelward.runtimes.process.child import Child, ChildFailure, ChildTimeout, Launch
from modelward.runtimes.process.protocol import (
    Description,
    ModelReportedError,
    ProtocolError,
    decode,
    describe_request,
    parse_describe,
    parse_result,
    predict_request,
    shutdown_request,
)

_MB = 1024 * 1024


class MemoryExceeded(ChildFailure):
    """The program's resident memory went over ``memory_limit_mb``."""


@dataclass
class Backoff:
    """Restart delays: ``initial`` doubling up to ``maximum``, reset after a healthy run."""

    initial: float = 0.1
    maximum: float = 10.0
    healthy_after: float = 30.0
    _next: float = field(default=0.0, init=False)

    def delay(self, uptime: float) -> float:
        """The wait before the next start, given how long the failed process had run."""
        if self._next == 0.0 or uptime >= self.healthy_after:
            self._next = self.initial
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay


@dataclass(frozen=True)
class Limits:
    """Deadlines and ceilings for one copy."""

    timeout: float
    start_timeout: float
    memory_limit_mb: float | None = None
    grace: float = 0.5


class Copy:
    """One copy of the program, restarted whenever it fails."""

    def __init__(self, index: int, launch: Launch, limits: Limits, backoff: Backoff) -> None:
        self.index = index
        self.launch = launch
        self.limits = limits
        self.backoff = backoff
        self.child: Child | None = None
        self.state = "stopped"
        self.restarts = 0
        self.requests = 0
        self.failures = 0
        self.last_error: str | None = None
        self._last_uptime = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def name(self) -> str:
        pid = f" (pid {self.child.pid})" if self.child else ""
        return f"copy {self.index} of `{' '.join(self.launch.argv)}`{pid}"

    def start(self) -> Description:
        """Start the program and shake hands; a failure kills it and says why, stderr included."""
        with self._lock:
            if self._closed:
                raise ChildFailure(f"copy {self.index} is being unloaded")
            self.state = "starting"
            try:
                child = self.child = Child(self.launch, f"process-{self.index}")
            except ChildFailure as exc:  # could not even be executed
                self.state = "restarting"
                self.failures += 1
                self.last_error = f"did not start: {exc}"
                raise ChildFailure(f"{self.name} did not start: {exc}") from None
        try:
            deadline = time.monotonic() + self.limits.start_timeout
            child.send(describe_request(), deadline)
            description = parse_describe(decode(child.receive(deadline)))
        except ChildTimeout:
            reason = f"did not answer describe within {self.limits.start_timeout:g} s"
            raise ChildFailure(self._kill(reason)) from None
        except (ChildFailure, ProtocolError) as exc:
            raise ChildFailure(self._kill(f"did not start: {exc}")) from None
        self.state = "ready"
        return description

    def request(
        self, columns: Mapping[str, list[Any]], params: Mapping[str, Any], rows: int
    ) -> dict[str, list[Any]]:
        """Send one predict request and return the output columns."""
        child = self.child
        if child is None:
            raise WorkerUnavailableError(f"{self.name} is not running", hint="retry shortly")
        request_id = f"r{next(self._ids)}"
        data = predict_request(request_id, columns, params)
        deadline = time.monotonic() + self.limits.timeout
        self.requests += 1
        try:
            child.send(data, deadline)
            line = child.receive(deadline, self._check_memory)
            result = parse_result(decode(line), request_id, rows)
        except ModelReportedError as exc:
            raise ModelFailedError(
                f"the model program failed on this request: {exc}",
                hint="the program is still running; check the input and the program's stderr",
            ) from None
        except ChildTimeout:
            raise self._failed(
                f"did not answer within {self.limits.timeout:g} s",
                "retry shortly; raise timeout_seconds if the program is just slow",
            ) from None
        except MemoryExceeded as exc:
            raise self._failed(str(exc), "raise memory_limit_mb or send fewer rows") from None
        except ChildFailure as exc:
            raise self._failed(
                f"failed: {exc}", "retry shortly; see the program's stderr"
            ) from None
        except ProtocolError as exc:
            raise self._failed(
                f"broke the protocol: {exc}",
                "only protocol messages may go to stdout; write logs to stderr",
            ) from None
        try:
            self._check_memory()
        except MemoryExceeded as exc:  # the answer is good; the copy is recycled
            self._kill(str(exc))
        return result

    def idle_problem(self) -> str | None:
        """Why this idle copy cannot take a request (died, wrote unasked, too big), or ``None``."""
        child = self.child
        if child is None:
            return "is not running"
        if not child.alive():
            return "exited while idle"
        if child.pending():
            return "wrote to stdout while idle (only answers may go there)"
        try:
            self._check_memory()
        except MemoryExceeded as exc:
            return f"{exc} while idle"
        return None

    def running(self) -> bool:
        """True when the copy has a live process."""
        return self.child is not None and self.child.alive()

    def discard(self, reason: str) -> None:
        """Kill the copy for ``reason`` (it will be restarted by whoever owns it)."""
        self._kill(reason)

    def recover(self, closing: threading.Event) -> bool:
        """Restart after the backoff until it works (True) or the pool closes (False)."""
        while not closing.is_set():
            self.state = "restarting"
            if closing.wait(self.backoff.delay(self._last_uptime)):
                break
            self.restarts += 1
            try:
                self.start()
                return True
            except ChildFailure as exc:
                self.last_error = str(exc)
                self._last_uptime = 0.0
        return False

    def ask_to_stop(self) -> None:
        """Send ``shutdown`` and close stdin (only on an idle copy)."""
        child = self.child
        if child is not None:
            with contextlib.suppress(ChildFailure):
                child.send(shutdown_request(), time.monotonic() + 0.2)
            child.close_input()

    def shutdown(self, *, polite: bool) -> None:
        """Stop for good; ``polite`` waits the grace period for the program to exit by itself."""
        with self._lock:
            self._closed = True
            child, self.child = self.child, None
            self.state = "stopped"
        if child is not None:
            child.stop(self.limits.grace, polite=polite)

    def stats(self) -> dict[str, Any]:
        """Pid, state, counters and CPU/RSS of the current process."""
        child = self.child
        running = child is not None and child.alive()
        usage = child.usage() if child is not None and running else None
        return {
            "copy": self.index,
            "pid": child.pid if child is not None and running else None,
            "state": self.state,
            "restarts": self.restarts,
            "requests": self.requests,
            "failures": self.failures,
            "cpu_seconds": usage.cpu_seconds if usage else None,
            "rss_bytes": usage.rss_bytes if usage else None,
            "last_error": self.last_error,
        }

    def _check_memory(self) -> None:
        limit = self.limits.memory_limit_mb
        child = self.child
        if limit is None or child is None:
            return
        usage = child.usage()
        if usage is not None and usage.rss_bytes > limit * _MB:
            raise MemoryExceeded(
                f"used {usage.rss_bytes / _MB:.0f} MB of memory, over memory_limit_mb={limit:g}"
            )

    def _failed(self, what: str, hint: str) -> WorkerUnavailableError:
        return WorkerUnavailableError(self._kill(what, then="; it will be restarted"), hint=hint)

    def _kill(self, what: str, then: str = "") -> str:
        """Stop the process and count the failure; the message says why, stderr tail last."""
        name = self.name
        with self._lock:
            child, self.child = self.child, None
            if not self._closed:
                self.state = "restarting"
        self.failures += 1
        self.last_error = what
        if child is None:
            return f"{name} {what}{then}"
        self._last_uptime = child.uptime()
        child.stop(self.limits.grace)
        shown = "".join(f"\n  | {line}" for line in child.stderr_tail())
        return f"{name} {what}{then}" + (f". Its last stderr lines:{shown}" if shown else "")

"""One running program: its pipes, a reader thread per output stream, and how to end it.

The program runs in its own session (process group), so killing it also kills whatever it
started. Writes to its stdin never block past a deadline (the fd is non-blocking), and reads
wait on a queue fed by a reader thread, so a program that stops reading or answering can never
hang the engine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from modelward.procstat import ProcStat, read_procstat
from modelward.runtimes.process.protocol import MAX_LINE_BYTES

log = logging.getLogger("modelward.process")
STDERR_LINES = 20
_POLL_SECONDS = 0.05


class ChildFailure(Exception):
    """The program exited, could not be started, or did not answer in time."""


class ChildTimeout(ChildFailure):
    """The program did not read or answer before the deadline."""


@dataclass(frozen=True)
class Launch:
    """How to start the program: argv, working folder and the whole environment."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]


class Child:
    """One operating-system process of the program."""

    def __init__(self, launch: Launch, label: str) -> None:
        self.launch = launch
        self.label = label
        self.started_at = time.monotonic()
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        try:
            self.proc = subprocess.Popen(
                list(launch.argv),
                cwd=launch.cwd,
                env=dict(launch.env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise ChildFailure(f"cannot start {launch.argv[0]}: {exc.strerror or exc}") from exc
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self._stdin = self.proc.stdin.fileno()
        os.set_blocking(self._stdin, False)
        self._threads = [
            threading.Thread(target=self._read_stdout, name=f"{label}-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name=f"{label}-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        """True while the process has not exited."""
        return self.proc.poll() is None

    def uptime(self) -> float:
        """Seconds since the process was started."""
        return time.monotonic() - self.started_at

    def usage(self) -> ProcStat | None:
        """CPU and memory used so far (``None`` once it has exited)."""
        return read_procstat(self.pid) if self.alive() else None

    def stderr_tail(self) -> list[str]:
        """The last lines the program wrote to stderr."""
        return list(self._stderr)

    def pending(self) -> bool:
        """True when the program wrote something nobody asked for (or its stdout closed)."""
        return not self._lines.empty()

    def send(self, data: bytes, deadline: float) -> None:
        """Write ``data`` to the program's stdin, giving up at ``deadline``."""
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildTimeout("it stopped reading its input")
            try:
                written = os.write(self._stdin, view)
            except BlockingIOError:
                select.select([], [self._stdin], [], min(remaining, _POLL_SECONDS))
                continue
            except (BrokenPipeError, OSError):
                raise ChildFailure(self._exit_reason()) from None
            view = view[written:]

    def receive(self, deadline: float, watch: Callable[[], None] | None = None) -> bytes:
        """The next line the program writes; ``watch`` runs while waiting (and may raise)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildTimeout("it did not answer in time")
            try:
                line = self._lines.get(timeout=min(remaining, _POLL_SECONDS))
            except queue.Empty:
                if watch is not None:
                    watch()
                continue
            if line is None:
                self._lines.put(None)  # stays closed for whoever asks next
                raise ChildFailure(self._exit_reason())
            return line

    def close_input(self) -> None:
        """Close stdin: the program sees end of input and should exit."""
        assert self.proc.stdin
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def stop(self, grace: float, *, polite: bool = False) -> None:
        """End the process group: SIGTERM, then SIGKILL after ``grace`` seconds.

        ``polite`` first gives the program ``grace`` seconds to exit on its own (after a
        shutdown message or the end of its input).
        """
        self.close_input()
        signals = (
            (None, signal.SIGTERM, signal.SIGKILL) if polite else (signal.SIGTERM, signal.SIGKILL)
        )
        for sig in signals:
            if sig is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, sig)
            try:
                self.proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        # The program is gone; children it left behind in its group must go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait()
        for thread, stream in zip(self._threads, (self.proc.stdout, self.proc.stderr), strict=True):
            thread.join(timeout=1.0)
            # A stream still held open by an escaped grandchild stays with its daemon thread:
            # closing it under a blocked read would wait for that read.
            if stream is not None and not thread.is_alive():
                stream.close()

    def _exit_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "it closed its output but is still running"
        if code < 0:
            try:
                return f"it was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"it was killed by signal {-code}"
        return f"it exited with code {code}"

    def _read_stdout(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while True:
                line = stream.readline(MAX_LINE_BYTES + 1)
                if not line:
                    break
                self._lines.put(line)
                if not line.endswith(b"\n"):
                    break  # overlong or unterminated: the reader of the queue refuses it
        except (OSError, ValueError):
            pass
        self._lines.put(None)

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        try:
            for raw in stream:
                text = raw.decode("utf-8", errors="replace").rstrip()
                self._stderr.append(text)
                log.debug("%s: %s", self.label, text)
        except (OSError, ValueError):
            pass

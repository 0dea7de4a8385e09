"""The load client of ``bench/serving.py``, run as its own process; also a trivial echo server.

``python bench/_load.py load --port P --request FILE --concurrency N --seconds S --warmup W``
sends the pre-built HTTP/1.1 request in FILE (request line, headers and body, bytes as they go on
the wire) over N keep-alive connections (one per concurrent client, ``TCP_NODELAY`` set), each
sending its next request as soon as the previous answer is complete, for W seconds of warm-up and
then S measured seconds. It prints one JSON object: requests, seconds, req/s, latency percentiles
(ms), HTTP statuses, errors, reconnects and the client's own CPU use over the measured window;
``--latencies FILE`` also writes every measured latency (seconds, native doubles).

With one connection the loop is a plain blocking socket (the least client overhead per request);
with more it is one uvloop event loop with a protocol per connection that sends the next request
from its ``data_received`` callback, so no coroutine is scheduled per request.

``python bench/_load.py echo --port P`` answers every request with a fixed tiny JSON body, from
one uvloop process: running the load client against it shows what the client itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import signal
import socket
import time
from array import array
from collections import Counter
from pathlib import Path

Parsed = tuple[int, int, bool]  # (end of the response in the buffer, status, server closes)
_MAX_ERRORS_IN_A_ROW = 50


def parse_response(buf: bytearray, eof: bool = False) -> Parsed | None:
    """The first complete response in ``buf``, or None when more bytes are needed."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = bytes(buf[:head_end]).decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length: int | None = None
    chunked = False
    connection = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value
        elif name == "connection":
            connection = value
    close = "close" in connection or (
        lines[0].startswith("HTTP/1.0") and "keep-alive" not in connection
    )
    pos = head_end + 4
    if chunked:
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            pos = line_end + 2
            if size == 0:
                trailer_end = buf.find(b"\r\n", pos)
                while trailer_end > pos:  # skip trailer fields up to the empty line
                    pos = trailer_end + 2
                    trailer_end = buf.find(b"\r\n", pos)
                return (trailer_end + 2, status, close) if trailer_end >= 0 else None
            if len(buf) < pos + size + 2:
                return None
            pos += size + 2
    if length is None:  # delimited by the server closing the connection
        return (len(buf), status, True) if eof else None
    return (pos + length, status, close) if len(buf) >= pos + length else None


def _connect(host: str, port: int, blocking: bool) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(blocking)
    if blocking:
        sock.settimeout(60)
    return sock


class _Stats:
    """Latencies and outcomes of the requests that started inside the measured window."""

    def __init__(self, warmup: float, seconds: float) -> None:
        self.start = time.perf_counter()
        self.t0 = self.start + warmup
        self.t1 = self.t0 + seconds
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors = self.reconnects = 0
        self.last_end = self.t0
        self.cpu0: float | None = None

    def done(self, started: float, ended: float, status: int) -> None:
        if started >= self.t0:
            if self.cpu0 is None:
                self.cpu0 = time.process_time()
            self.latencies.append(ended - started)
            self.statuses[status] += 1
            self.last_end = max(self.last_end, ended)

    def summary(self, concurrency: int) -> dict[str, object]:
        cpu = time.process_time() - (self.cpu0 if self.cpu0 is not None else time.process_time())
        lat = sorted(self.latencies)
        seconds = max(self.last_end - self.t0, 1e-9)

        def pct(q: float) -> float:
            return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

        return {
            "concurrency": concurrency,
            "requests": len(lat),
            "seconds": seconds,
            "rps": len(lat) / seconds,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "mean_ms": sum(lat) / len(lat) * 1000 if lat else float("nan"),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "non_2xx": sum(v for k, v in self.statuses.items() if not 200 <= k < 300),
            "errors": self.errors,
            "reconnects": self.reconnects,
            "client_cpu": cpu / seconds,
        }


def run_blocking(host: str, port: int, request: bytes, stats: _Stats) -> None:
    """One connection, one request at a time, plain blocking socket calls."""
    sock = _connect(host, port, blocking=True)
    buf = bytearray()
    in_a_row = 0
    perf_counter, recv, t1 = time.perf_counter, sock.recv, stats.t1
    try:
        while True:
            started = perf_counter()
            if started >= t1:
                return
            try:
                sock.sendall(request)
                parsed = None
                while parsed is None:
                    chunk = recv(1 << 18)
                    if not chunk:
                        parsed = parse_response(buf, eof=True)
                        if parsed is None:
                            raise ConnectionError("the server closed the connection mid-answer")
                        break
                    buf += chunk
                    parsed = parse_response(buf)
            except OSError:
                stats.errors += 1
                in_a_row += 1
                if in_a_row >= _MAX_ERRORS_IN_A_ROW:
                    raise
                sock.close()
                time.sleep(0.01)
                sock, buf = _connect(host, port, blocking=True), bytearray()
                recv = sock.recv
                stats.reconnects += 1
                continue
            stats.done(started, perf_counter(), parsed[1])
            in_a_row = 0
            del buf[: parsed[0]]
            if parsed[2]:
                sock.close()
                sock, buf = _connect(host, port, blocking=True), bytearray()
                recv = sock.recv
                stats.reconnects += 1
    finally:
        sock.close()


class _Connection(asyncio.Protocol):
    def __init__(self, runner: _AsyncRunner) -> None:
        self.runner = runner
        self.buf = bytearray()
        self.started = 0.0
        self.waiting = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self) -> None:
        self.started = time.perf_counter()
        if self.started >= self.runner.stats.t1:
            self.runner.finished(self)
            return
        self.waiting = True
        assert self.transport is not None
        self.transport.write(self.runner.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        parsed = parse_response(self.buf)
        if parsed is None:
            return
        self.waiting = False
        self.runner.stats.done(self.started, time.perf_counter(), parsed[1])
        self.runner.in_a_row = 0
        del self.buf[: parsed[0]]
        if parsed[2]:
            assert self.transport is not None
            self.transport.close()
            self.runner.reconnect(self, counted=True)
        else:
            self.send()

    def eof_received(self) -> bool | None:
        if self.waiting and (parsed := parse_response(self.buf, eof=True)) is not None:
            self.waiting = False
            self.runner.stats.done(self.started, time.perf_counter(), parsed[1])
            self.runner.reconnect(self, counted=True)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiting:
            self.waiting = False
            self.runner.stats.errors += 1
            self.runner.in_a_row += 1
            self.runner.reconnect(self, counted=True)


class _AsyncRunner:
    def __init__(self, host: str, port: int, request: bytes, concurrency: int) -> None:
        self.host, self.port, self.request = host, port, request
        self.concurrency = concurrency
        self.loop = asyncio.get_running_loop()
        self.all_done = asyncio.Event()
        self.active = 0
        self.in_a_row = 0
        self.stats: _Stats
        self.failure: BaseException | None = None

    async def open(self) -> _Connection:
        sock = _connect(self.host, self.port, blocking=False)
        _, protocol = await self.loop.create_connection(lambda: _Connection(self), sock=sock)
        return protocol

    def finished(self, conn: _Connection) -> None:
        if conn.transport is not None:
            conn.transport.close()
        self.active -= 1
        if self.active == 0:
            self.all_done.set()

    def reconnect(self, conn: _Connection, counted: bool) -> None:
        if counted:
            self.stats.reconnects += 1
        if self.in_a_row >= _MAX_ERRORS_IN_A_ROW:
            self.failure = ConnectionError(f"{self.in_a_row} connection errors in a row")
            self.all_done.set()
            return
        if time.perf_counter() >= self.stats.t1:
            self.finished(conn)
            return

        async def again() -> None:
            try:
                fresh = await self.open()
            except OSError as exc:
                self.stats.errors += 1
                self.in_a_row += 1
                await asyncio.sleep(0.01)
                if self.in_a_row >= _MAX_ERRORS_IN_A_ROW:
                    self.failure = exc
                    self.all_done.set()
                    return
                self.reconnect(conn, counted=False)
                return
            fresh.send()

        self.loop.create_task(again())

    async def run(self, warmup: float, seconds: float) -> _Stats:
        connections = [await self.open() for _ in range(self.concurrency)]
        self.stats = _Stats(warmup, seconds)
        self.active = len(connections)
        for conn in connections:
            conn.send()
        await asyncio.wait_for(self.all_done.wait(), warmup + seconds + 60)
        if self.failure is not None:
            raise self.failure
        return self.stats


def load(args: argparse.Namespace) -> None:
    request = Path(args.request).read_bytes()
    gc.disable()  # a collection in the client would show up as a server latency spike
    if args.concurrency == 1:
        stats = _Stats(args.warmup, args.seconds)
        run_blocking(args.host, args.port, request, stats)
    else:
        import uvloop

        async def main() -> _Stats:
            runner = _AsyncRunner(args.host, args.port, request, args.concurrency)
            return await runner.run(args.warmup, args.seconds)

        stats = uvloop.run(main())
    if args.latencies:  # for a caller that merges several runs into one distribution
        Path(args.latencies).write_bytes(array("d", stats.latencies).tobytes())
    print(json.dumps(stats.summary(args.concurrency)))


_ECHO_ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
    b'{"outputs":[0]}'
)


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = bytearray()
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (head_end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buf[:head_end]).lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            end = head_end + 4 + length
            if len(self.buf) < end:
                return
            del self.buf[:end]
            self.transport.write(_ECHO_ANSWER)  # type: ignore[attr-defined]


def echo(args: argparse.Namespace) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = await loop.create_server(_Echo, args.host, args.port)
        print("ready", flush=True)
        await stop.wait()
        server.close()

    uvloop.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("load")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--request", required=True, help="file with the raw HTTP request bytes")
    run.add_argument("--concurrency", type=int, default=1)
    run.add_argument("--seconds", type=float, default=5.0)
    run.add_argument("--warmup", type=float, default=1.0)
    run.add_argument("--latencies", help="also write every measured latency (s) here, as doubles")
    srv = sub.add_parser("echo")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    load(args) if args.command == "load" else echo(args)


if __name__ == "__main__":
    main()

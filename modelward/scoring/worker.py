"""A model worker: one child process that loads one model version and scores frames for it.

Started by :mod:`modelward.scoring.pool` as ``python -m modelward.scoring.worker FD REF``; it
talks over the socket FD only (stdout is pointed at stderr so that a model printing to stdout
cannot corrupt the protocol). A crash here costs this model's in-flight requests, not the server.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
import warnings
from typing import IO, Any

from modelward.errors import ModelwardError
from modelward.runtimes import sklearn as sklearn_runtime
from modelward.runtimes.base import Runtime
from modelward.scoring.ipc import HEADER, MAX_FRAME, decode_columns, encode_columns, pack, unpack


def _read(stream: IO[bytes]) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None  # the server closed the socket: time to go
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    return unpack(stream.read(size))


def _answer(runtime: Runtime, message: dict[str, Any]) -> dict[str, Any]:
    request_id = message["id"]
    try:
        columns = decode_columns(message["columns"])
        outputs = runtime.predict_columns(columns, message.get("params") or {})
        return {"id": request_id, "ok": True, "columns": encode_columns(outputs)}
    except ModelwardError as exc:
        return {"id": request_id, "ok": False, "status": exc.http_status, "error": exc.message}
    except MemoryError:
        return {
            "id": request_id,
            "ok": False,
            "status": 500,
            "error": "the model ran out of memory",
        }
    except Exception as exc:  # the model's own failure: report it, keep serving
        traceback.print_exc()
        return {"id": request_id, "ok": False, "status": 500, "error": f"the model failed: {exc!r}"}


def serve(fd: int, ref: str) -> int:
    """Load ``ref`` and answer predict frames on the socket ``fd`` until it closes."""
    sock = socket.socket(fileno=fd)
    reader = sock.makefile("rb")
    started = time.perf_counter()
    try:
        from modelward.client import Client

        model = Client().load_model(ref)
    except Exception as exc:
        message = exc.message if isinstance(exc, ModelwardError) else repr(exc)
        sock.sendall(pack({"op": "failed", "error": f"cannot load {ref}: {message}"}))
        return 3
    runtime = model.runtime
    sock.sendall(
        pack({"op": "ready", "load_seconds": time.perf_counter() - started, "pid": os.getpid()})
    )
    while True:
        message = _read(reader)
        if message is None:
            break
        sock.sendall(pack(_answer(runtime, message)))
    model.unload()
    return 0


def main() -> None:
    """Entry point of the worker process."""
    os.dup2(2, 1)  # anything printed goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    # This process only scores: the matrix fast path is ordered by the fitted names already.
    warnings.filterwarnings("ignore", message=sklearn_runtime.FEATURE_NAMES_WARNING)
    sklearn_runtime.QUIET_FEATURE_NAMES = True
    sys.exit(serve(int(sys.argv[1]), sys.argv[2]))


if __name__ == "__main__":
    main()

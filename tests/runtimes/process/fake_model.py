"""A model program for the process-flavor tests: doubles ``x``, or misbehaves on purpose.

``MODE`` picks the misbehaviour. With ``MARKER`` set it happens once: the process that creates
the marker file misbehaves, the processes started after it behave. ``START_GATE`` names a file
whose presence makes the program crash at start.
"""

import json
import os
import subprocess
import sys
import time

MODE = os.environ.get("MODE", "echo")
MARKER = os.environ.get("MARKER")
GATE = os.environ.get("START_GATE")
BAD_MODES = {"garbage", "wrong_id", "wrong_rows", "unknown_type", "exit", "hang", "memory"}
BAD_MODES |= {"error", "exit_after", "chatty", "memory_after"}
HOGS: list[bytes] = []


def misbehave() -> bool:
    if MODE not in BAD_MODES:
        return False
    if not MARKER:
        return True
    try:
        os.close(os.open(MARKER, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def send(message: object) -> None:
    write(json.dumps(message) + "\n")


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def answer(request: dict, bad: bool) -> None:
    xs = request["columns"]["x"]
    rid = request["id"]
    time.sleep(float(request["params"].get("sleep", 0)))
    ys = [None if x is None else 2 * x for x in xs]
    result = {"type": "result", "id": rid, "columns": {"y": ys, "pid": [os.getpid()] * len(xs)}}
    if not bad:
        return send(result)
    if MODE == "garbage":
        write("hello, this is not json\n")
    elif MODE == "wrong_id":
        send({**result, "id": "nope"})
    elif MODE == "wrong_rows":
        send({**result, "columns": {"y": [*ys, 1.0], "pid": [0] * (len(xs) + 1)}})
    elif MODE == "unknown_type":
        send({"type": "banana", "id": rid})
    elif MODE == "exit":
        print("exiting on purpose", file=sys.stderr)
        sys.exit(3)
    elif MODE == "hang":
        time.sleep(60)
    elif MODE == "memory":
        HOGS.append(b"x" * (200 * 1024 * 1024))  # written, so resident
        time.sleep(60)
    elif MODE == "memory_after":
        send(result)
        HOGS.append(b"x" * (200 * 1024 * 1024))
    elif MODE == "error":
        send({"type": "error", "id": rid, "message": "x must be positive"})
    elif MODE == "exit_after":
        send(result)
        sys.exit(0)
    elif MODE == "chatty":
        write(json.dumps(result) + '\n{"type":"log","text":"unasked"}\n')


def main() -> None:
    if MODE == "crash" or (GATE and os.path.exists(GATE)):
        print("boom: cannot load the weights", file=sys.stderr)
        sys.exit(2)
    extra = ""
    if MODE == "grandchild":
        extra = str(subprocess.Popen(["sleep", "60"]).pid)
    if MODE == "env":
        extra = ",".join(sorted(os.environ))
    print(f"fake model {MODE} ready", file=sys.stderr)
    for line in sys.stdin:
        request = json.loads(line)
        if request["type"] == "describe":
            send(
                {
                    "type": "describe",
                    "protocol": 1,
                    "name": "fake",
                    "version": extra,
                    "signature": {
                        "inputs": [{"name": "x", "type": "double"}],
                        "outputs": [
                            {"name": "y", "type": "double"},
                            {"name": "pid", "type": "long"},
                        ],
                    },
                    "params": {"sleep": "seconds to wait before answering"},
                }
            )
        elif request["type"] == "predict":
            answer(request, misbehave())
        elif request["type"] == "shutdown":
            return


if __name__ == "__main__":
    main()

"""`modelward server` for real: its own process, real HTTP on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.cli import Run

SCRIPT = Path(sys.executable).parent / "modelward"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_refuses_to_start_without_users(run: Run) -> None:
    result = run("server", "--port", str(free_port()))
    assert result.code == 3
    assert "no users yet" in result.err and "modelward init" in result.err


def test_the_real_server_answers_a_token_and_stops_gracefully(tmp_path: Path) -> None:
    env = {**os.environ, "MODELWARD_HOME": str(tmp_path)}
    env.pop("MODELWARD_DATABASE_URL", None)
    init = subprocess.run(
        [str(SCRIPT), "init", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    token = json.loads(init.stdout)["admin"]["token"]
    port = free_port()
    process = subprocess.Popen(
        [str(SCRIPT), "server", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{url}/me", headers=headers)
        assert me.status_code == 200 and me.json()["name"] == "admin"
        assert httpx.get(f"{url}/models").status_code == 401
        assert httpx.get(f"{url}/models", headers=headers).json()["items"] == []
        created = httpx.post(f"{url}/users", headers=headers, json={"name": "v", "role": "viewer"})
        assert created.status_code == 201
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
    assert code == 0, errors

"""A real, throw-away PostgreSQL server on a loopback port, started by the test run itself.

CI runs as root and ``initdb`` refuses root, so as root the server runs as the ``postgres``
user through ``su``. The Debian server binaries are not on PATH: ``pg_config --bindir`` (or the
newest /usr/lib/postgresql/*/bin) tells where they are.
"""

from __future__ import annotations

import glob
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start."""


def find_bindir() -> Path:
    """Folder with initdb and pg_ctl."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found; install the Debian 'postgresql' package "
        "(.ci/run does this)"
    )


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(cmd: list[str], *, as_postgres: bool) -> None:
    if as_postgres:
        cmd = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{shlex.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield the URL of its ``postgres`` database; stop and delete it after."""
    bindir = find_bindir()
    as_postgres = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="modelward-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    password = secrets.token_hex(16)
    (base / "pw").write_text(password)
    if as_postgres:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        shutil.chown(base / "pw", "postgres")
    port = _free_port()
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "modelward",
            "--auth=scram-sha-256",
            f"--pwfile={base / 'pw'}",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        as_postgres=as_postgres,
    )
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {sock} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    ctl = str(bindir / "pg_ctl")
    _run(
        [ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "-t", "60", "start"],
        as_postgres=as_postgres,
    )
    try:
        yield f"postgresql://modelward:{password}@127.0.0.1:{port}/postgres"
    finally:
        try:
            _run([ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], as_postgres=as_postgres)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server; return its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"

"""Shared fixtures: an isolated MODELWARD_HOME per test, and the store backends."""

from __future__ import annotations

import os

# Rich sizes its consoles when the CLI modules are imported: make every worker wide enough that
# CLI output is never wrapped or cut, whatever the terminal (or none) pytest runs in.
os.environ["COLUMNS"] = "200"

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelward.client import Client
from modelward.config import load_settings
from tests.support.cli import Run, make_runner
from tests.support.postgres import create_database, postgres_server

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def mw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own MODELWARD_HOME and never touches ~/.modelward."""
    home = tmp_path / "mwhome"
    monkeypatch.setenv("MODELWARD_HOME", str(home))
    monkeypatch.delenv("MODELWARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("MODELWARD_ARTIFACT_ROOT", raising=False)
    monkeypatch.setenv("MODELWARD_ACTOR", "tester")
    return home


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One real PostgreSQL server per test process."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, mw_home: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{mw_home / 'modelward.db'}"
    server = request.getfixturevalue("pg_server")
    return create_database(server, f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def client(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """A client on a fresh database (both backends) and a local artifact root."""
    monkeypatch.setenv("MODELWARD_DATABASE_URL", database_url)
    mw = Client(load_settings())
    yield mw
    mw.close()


@pytest.fixture
def sqlite_client() -> Iterator[Client]:
    """A client on the embedded default (SQLite + local folder) only."""
    mw = Client(load_settings())
    yield mw
    mw.close()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``modelward ARGS…`` in-process through the real entry point; return code and output."""
    return make_runner(capsys, monkeypatch)

"""Failures part-way: nothing half-written, nothing tampered loaded."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy.engine import make_url

from modelward.client import Client
from modelward.errors import ArtifactIntegrityError, StoreUnavailableError


def small_model() -> LogisticRegression:
    return LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])


def _take_database_down(client: Client) -> None:
    """Make the database unreachable for real: SQLite file gone, PostgreSQL refusing connections."""
    url = make_url(client.settings.database_url)
    client.registry.store.engine.dispose()
    if url.get_backend_name() == "sqlite":
        db = Path(str(url.database))
        for suffix in ("", "-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            if side.exists():
                side.rename(f"{side}.away")
        db.mkdir()  # a folder where the database file was: SQLite cannot open it
        return
    admin = url.set(database="postgres", drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (url.database,),
        )


def _bring_database_back(client: Client) -> None:
    url = make_url(client.settings.database_url)
    if url.get_backend_name() == "sqlite":
        db = Path(str(url.database))
        db.rmdir()
        for suffix in ("", "-wal", "-shm"):
            away = Path(f"{db}{suffix}.away")
            if away.exists():
                away.rename(f"{db}{suffix}")
        return
    admin = url.set(database="postgres", drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true')


def test_registration_failing_after_the_artifact_leaves_no_row_and_no_orphan(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.register_model(small_model(), "m")  # schema and model exist; one blob
    registry = client.registry
    before = set(registry.artifacts.digests())
    real_put = registry.artifacts.put_file
    written: list[str] = []

    def put_then_lose_database(src: Path) -> object:
        blob = real_put(src)
        written.append(blob.digest)
        _take_database_down(client)
        return blob

    monkeypatch.setattr(registry.artifacts, "put_file", put_then_lose_database)
    with pytest.raises(StoreUnavailableError) as info:
        client.register_model(LogisticRegression(C=3.0).fit([[0.0], [1.0]], [0, 1]), "m")
    assert "cannot use the metadata database" in info.value.message
    assert written and written[0] not in before
    assert set(registry.artifacts.digests()) == before  # the new blob was removed again
    _bring_database_back(client)
    monkeypatch.undo()
    registry.store.engine.dispose()
    assert [v.version for v in client.versions("m")] == [1]  # no half-recorded version 2
    assert client.register_model(small_model(), "m").version == 2


def test_a_tampered_artifact_is_refused_and_nothing_is_loaded(sqlite_client: Client) -> None:
    version = sqlite_client.register_model(small_model(), "m")
    root = Path(sqlite_client.settings.artifact_root)
    blob = root / "sha256" / version.digest[:2] / version.digest
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte
    blob.write_bytes(bytes(data))
    cache = sqlite_client.settings.cache_dir
    with pytest.raises(ArtifactIntegrityError) as info:
        sqlite_client.load_model("m/1")
    assert version.digest in info.value.message
    assert list(cache.iterdir()) == []  # nothing unpacked, nothing left behind


def test_unreachable_database_is_one_clear_error(tmp_path: Path) -> None:
    client = Client(database_url="postgresql://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailableError) as info:
        client.list()
    assert "127.0.0.1:1" in info.value.message and "secret" not in info.value.message
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is needed")
    client = Client(database_url=f"sqlite:///{blocker}/x.db")
    with pytest.raises(StoreUnavailableError, match="cannot create the folder"):
        client.list()

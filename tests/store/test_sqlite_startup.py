"""Many processes opening one fresh SQLite database at the same instant all get WAL, none fails.

SQLite answers one of two connections that switch a new file to WAL at once with an immediate
"database is locked" (deadlock avoidance, no busy handler); the engine retries that switch.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from tests.support.workers import open_fresh_sqlite


def test_simultaneous_first_connections_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        pool.map(abs, range(8))  # workers started and warm before the race
        results: list[str] = []
        for i in range(5):
            start = time.time() + 0.5
            path = str(tmp_path / f"fresh{i}.db")
            results += pool.starmap(open_fresh_sqlite, [(path, start)] * 8)
    assert results == ["ok"] * 40

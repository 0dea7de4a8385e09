"""Functions run in child processes by concurrency tests (importable by spawn)."""

from __future__ import annotations

from typing import Any


def register_many(
    database_url: str, artifact_root: str, home: str, worker: int, count: int, start: Any
) -> list[int]:
    """Register ``count`` versions of one model; return the version numbers received."""
    import os

    os.environ["MODELWARD_HOME"] = home
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from modelward.client import Client

    rng = np.random.default_rng(worker)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    client = Client(database_url=database_url, artifact_root=artifact_root)
    start.wait()
    numbers = []
    for i in range(count):
        model = LogisticRegression(C=1.0 + worker * 100 + i).fit(x, y)
        numbers.append(client.register_model(model, "shared", tags={"worker": str(worker)}).version)
    client.close()
    return numbers


def open_fresh_sqlite(path: str, start_at: float) -> str:
    """Connect to a (fresh) SQLite database at ``start_at``; return "ok" or the error."""
    import time

    from sqlalchemy import text

    from modelward.store.engine import create_store_engine

    engine = create_store_engine(f"sqlite:///{path}")
    while time.time() < start_at:
        pass
    try:
        with engine.connect() as conn:
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
        return "ok" if mode == "wal" else f"journal mode {mode}"
    except Exception as exc:
        return repr(exc)[:200]
    finally:
        engine.dispose()

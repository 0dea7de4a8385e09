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

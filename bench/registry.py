"""Registry benchmark: resolve NAME@ALIAS + load a small sklearn model 1,000 times, and register
500 versions, on SQLite and on a real PostgreSQL server; ops/s next to ``joblib.load`` of the same
model measured in the same run (the baseline: what loading costs with no registry at all).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import joblib
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

LOADS = int(os.environ.get("BENCH_LOADS", "1000"))
REGISTRATIONS = int(os.environ.get("BENCH_REGISTRATIONS", "500"))


def _rate(count: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        work()
    return count / (time.perf_counter() - start)


def _backend(url: str, root: Path, model: object, sample: object) -> dict[str, float]:
    from modelward.client import Client

    client = Client(database_url=url, artifact_root=str(root / "artifacts"))
    client.register_model(model, "bench", input_example=sample)
    client.set_alias("bench", "champion", 1)

    def load() -> None:
        client.load_model("bench@champion").unload()

    load()  # warm caches and imports once, as a server would
    results = {
        "resolve @alias": _rate(LOADS, lambda: client.get("bench@champion")),
        "resolve + load": _rate(LOADS, load),
    }
    start = time.perf_counter()
    for _ in range(REGISTRATIONS):
        client.register_model(model, "bench-many")
    results["register"] = REGISTRATIONS / (time.perf_counter() - start)
    client.close()
    return results


def main() -> None:
    from tests.support.postgres import create_database, postgres_server

    console = Console()
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(x, y)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["MODELWARD_HOME"] = str(root / "home")
        joblib.dump(model, root / "model.joblib")
        baseline = _rate(LOADS, lambda: joblib.load(root / "model.joblib"))
        rows: list[tuple[str, str, float]] = []
        sqlite = _backend(f"sqlite:///{root / 'bench.db'}", root / "sqlite", model, x.head())
        rows += [("sqlite", k, v) for k, v in sqlite.items()]
        with postgres_server() as server:
            pg = _backend(create_database(server, "bench"), root / "pg", model, x.head())
        rows += [("postgresql", k, v) for k, v in pg.items()]
    table = Table(title=f"registry benchmark ({LOADS} loads, {REGISTRATIONS} registrations)")
    for column in ("backend", "operation", "ops/s", "vs joblib.load"):
        table.add_column(column, justify="right" if column != "operation" else "left")
    table.add_row("-", "joblib.load (baseline)", f"{baseline:,.0f}", "1.00x")
    for backend, op, rate in rows:
        table.add_row(backend, op, f"{rate:,.0f}", f"{rate / baseline:.2f}x")
    console.print(table)


if __name__ == "__main__":
    main()

"""Batch benchmark: ``modelward predict`` on a Parquet file of 5,000,000 rows (breast-cancer
features with noise), with 1 and 2 worker processes, in rows/s next to ``model.predict`` on the
whole frame held in memory (the baseline: scoring with no files, no checks and no chunks), and
the peak memory of each run at N and N/5 rows, to show that chunked scoring stays flat.

Each measurement runs in a fresh process so that its RSS high-water mark is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

ROWS = int(os.environ.get("BENCH_BATCH_ROWS", "5000000"))
MODEL = "bench-batch"
_WRITE_ROWS = 250_000


def _write_input(path: Path, rows: int) -> None:
    """``rows`` breast-cancer rows drawn with replacement, each value jittered by 5% of its sd."""
    x, _ = load_breast_cancer(return_X_y=True, as_frame=True)
    values, scale = x.to_numpy(), x.std().to_numpy() * 0.05
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, pa.schema([(c, pa.float64()) for c in x.columns])) as writer:
        for start in range(0, rows, _WRITE_ROWS):
            n = min(_WRITE_ROWS, rows - start)
            sample = values[rng.integers(0, len(values), n)] + rng.normal(0, 1, (n, 1)) * scale
            writer.write_table(pa.Table.from_arrays(list(sample.T), names=list(x.columns)))


def _measure(kind: str, source: Path, workers: int) -> dict[str, float]:
    """One run in this (fresh) process: seconds, and its own and its workers' peak RSS (MB)."""
    stop, workers_peak = threading.Event(), {0: 0.0}

    def watch() -> None:  # a worker's high-water mark dies with it: sample while it runs
        while not stop.wait(0.05):
            for pid in _children():
                workers_peak[pid] = max(workers_peak.get(pid, 0.0), _peak_rss(pid))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    if kind == "raw":
        model = joblib.load(source.parent / "model.joblib")
        frame = pq.read_table(source).to_pandas()
        start = time.perf_counter()
        model.predict(frame)
        seconds = time.perf_counter() - start
    elif kind == "read":
        from modelward.batch.files import ChunkReader

        start = time.perf_counter()
        for _ in ChunkReader(source):
            pass
        seconds = time.perf_counter() - start
    else:
        from modelward.batch.predict import predict_file
        from modelward.client import Client

        with Client().load_model(MODEL) as loaded:
            start = time.perf_counter()
            predict_file(loaded, source, source.with_suffix(".out.parquet"), workers=workers)
            seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    return {"seconds": seconds, "rss": _peak_rss("self"), "workers_rss": max(workers_peak.values())}


def _peak_rss(pid: int | str) -> float:
    """VmHWM in MB (``ru_maxrss`` would carry the parent's figure over fork and exec)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) / 1024


def _children() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return pids


def _run(kind: str, source: Path, workers: int = 1) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.batch", kind, str(source), str(workers)]
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=repo)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    console = Console()
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(x, y)
    rows: list[tuple[str, int, dict[str, float], float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["MODELWARD_HOME"] = str(root / "home")
        from modelward.client import Client

        client = Client()
        client.register_model(model, MODEL, input_example=x.head())
        client.close()
        joblib.dump(model, root / "model.joblib")
        for count in (ROWS, ROWS // 5):
            source = root / f"rows-{count}.parquet"
            _write_input(source, count)
            raw = _run("raw", source)
            baseline = count / raw["seconds"]
            rows.append(("model.predict, in memory", count, raw, baseline))
            rows.append(("reading the file in chunks", count, _run("read", source), baseline))
            for workers in (1, 2):
                figures = _run("batch", source, workers)
                label = f"predict_file, {workers} worker{'s' if workers > 1 else ''}"
                rows.append((label, count, figures, baseline))
    table = Table(title=f"batch benchmark (Parquet, {ROWS:,} and {ROWS // 5:,} rows)")
    for column in ("run", "rows", "seconds", "rows/s", "vs in memory", "peak RSS", "per worker"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for label, count, figures, baseline in rows:
        rate = count / figures["seconds"]
        table.add_row(
            label,
            f"{count:,}",
            f"{figures['seconds']:.2f}",
            f"{rate:,.0f}",
            f"{rate / baseline:.2f}x",
            f"{figures['rss']:,.0f} MB",
            f"{figures['workers_rss']:,.0f} MB" if figures["workers_rss"] else "-",
        )
    console.print(table)


if __name__ == "__main__":
    if len(sys.argv) == 4:  # one measurement, in its own process (see _run)
        kind, path, workers = sys.argv[1:]
        print(json.dumps(_measure(kind, Path(path), int(workers))))
    else:
        main()

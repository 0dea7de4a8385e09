"""Drift benchmark: ``modelward drift`` against Evidently's ``DataDriftPreset`` on the same two
Parquet files (N rows each, 20 numeric and 5 categorical columns, 4 of them shifted), and the
throughput and peak memory of profile updates at N and 10·N rows (to show memory stays flat).

Each run is its own process, started by a tiny launcher whose ``os.wait4`` gives that process's
peak RSS (``ru_maxrss``) and nothing of this one. Evidently runs from ``bench/.venvs/evidently``,
made with pip on first use (``evidently``, ``pandas<3``); when that fails the comparison is
skipped with the reason. Both tools must flag the same columns: both sets are printed.

``python -m bench.drift [--rows N]`` (default 1,000,000; ``BENCH_DRIFT_ROWS`` for ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "evidently"
NUMERIC, CATEGORICAL = 20, 5
SHIFTED = {"num_00", "num_01", "num_02", "cat_0"}
CITIES = np.array(["paris", "rome", "oslo", "lima", "cairo", "delhi"])
_WRITE_ROWS = 250_000
console = Console()

# Runs the command in argv, then prints its wall time and peak RSS (the launcher's own small
# footprint is all that could carry over into the child's figure).
LAUNCHER = """import os, sys, time, json
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": usage.ru_maxrss / 1024,
                  "status": os.waitstatus_to_exitcode(status)}))
"""

EVIDENTLY = """import json, sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
result = Report([DataDriftPreset()]).run(cur, ref).dict()
drifted = []
for metric in result["metrics"]:
    config, value = metric.get("config", {}), metric.get("value")
    if config.get("type", "").endswith(":ValueDrift") and isinstance(value, float):
        threshold = config.get("threshold") or 0.1
        p_value = "p_value" in config.get("method", "")  # else a distance
        if (value < threshold) if p_value else (value >= threshold):
            drifted.append(config["column"])
print(json.dumps(sorted(drifted)))
"""


def _columns(rng: np.random.Generator, rows: int, shifted: bool) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i in range(NUMERIC):
        name = f"num_{i:02d}"
        move = 0.5 if shifted and name in SHIFTED else 0.0
        kind = i % 3
        if kind == 0:
            out[name] = rng.normal(move, 1.0, rows)
        elif kind == 1:
            out[name] = rng.lognormal(move * 0.5, 0.5, rows)
        else:
            out[name] = rng.uniform(0, 1, rows) + move * 0.29
    for i in range(CATEGORICAL):
        p = np.array([0.3, 0.25, 0.2, 0.12, 0.08, 0.05])
        if shifted and f"cat_{i}" in SHIFTED:
            p = p[::-1]
        out[f"cat_{i}"] = CITIES[rng.choice(len(CITIES), rows, p=p)]
    return out


def write_data(path: Path, rows: int, shifted: bool, seed: int) -> None:
    """``rows`` rows in 250,000-row row groups."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, _WRITE_ROWS):
        table = pa.table(_columns(rng, min(_WRITE_ROWS, rows - start), shifted))
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def measured(command: list[str]) -> tuple[dict[str, float], str]:
    """Wall time and peak RSS of ``command`` in its own process, and its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
    )
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    if figures["status"] != 0:
        raise RuntimeError(f"{command[0]} failed:\n{done.stderr[-2000:]}")
    return figures, "\n".join(lines[:-1])


def evidently_python() -> tuple[Path | None, str]:
    """The venv's python once it imports evidently (made with pip here the first time)."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import evidently, pyarrow; print(evidently.__version__)"]
    if python.exists():
        ok = subprocess.run(check, capture_output=True, text=True, check=False)
        if ok.returncode == 0:
            return python, f"evidently {ok.stdout.strip()} (reused {VENV.relative_to(HERE.parent)})"
    console.print("[bold]creating bench/.venvs/evidently (pip install evidently …), once[/bold]")
    made = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if made.returncode != 0:
        return None, f"venv creation failed: {made.stderr.strip()[-300:]}"
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    done = subprocess.run(
        [*pip, "evidently", "pandas<3", "pyarrow"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return None, f"pip install evidently failed: {done.stderr.strip()[-300:]}"
    ok = subprocess.run(check, capture_output=True, text=True, check=False)
    if ok.returncode != 0:
        return None, f"evidently does not import: {ok.stderr.strip()[-300:]}"
    return python, f"evidently {ok.stdout.strip()} (new venv)"


def profile_run(rows: int) -> None:
    """In a child process: profile ``rows`` rows of generated batches against a reference."""
    from modelward.monitoring.profiles import BATCH_ROWS, profile_batches

    rng = np.random.default_rng(0)
    pool = [pa.record_batch(_columns(rng, BATCH_ROWS, shifted=False)) for _ in range(4)]
    reference = profile_batches(pool)
    batches = (
        pool[i % len(pool)].slice(0, min(BATCH_ROWS, rows - i * BATCH_ROWS))
        for i in range(-(-rows // BATCH_ROWS))
    )
    start = time.perf_counter()
    profile = profile_batches(batches, reference)
    seconds = time.perf_counter() - start
    assert profile.rows == rows
    print(json.dumps({"rows_per_s": rows / seconds, "seconds": seconds}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=int(os.environ.get("BENCH_DRIFT_ROWS", 1_000_000))
    )
    args = parser.parse_args(argv if argv is not None else [])
    rows = args.rows
    modelward = str(Path(sys.executable).with_name("modelward"))
    table = Table(title=f"drift benchmark ({rows:,} rows per file, 20 numeric + 5 categorical)")
    for name in ("run", "seconds", "peak RSS", "vs Evidently", "drifted columns"):
        table.add_column(name, justify="left" if name in ("run", "drifted columns") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        ref, cur = Path(tmp) / "reference.parquet", Path(tmp) / "current.parquet"
        write_data(ref, rows, shifted=False, seed=1)
        write_data(cur, rows, shifted=True, seed=2)
        ours, out = measured([modelward, "drift", "-r", str(ref), "-c", str(cur), "--json"])
        our_set = sorted(json.loads(out)["drifted_columns"])
        python, why = evidently_python()
        theirs: dict[str, float] | None = None
        their_set: list[str] = []
        if python is not None:
            script = Path(tmp) / "evidently_drift.py"
            script.write_text(EVIDENTLY)
            theirs, out = measured([str(python), str(script), str(ref), str(cur)])
            their_set = json.loads(out)
        table.add_row(
            "modelward drift",
            f"{ours['seconds']:.2f}",
            f"{ours['rss_mb']:,.0f} MB",
            _ratio(ours, theirs),
            ", ".join(our_set),
        )
        if theirs is not None:
            table.add_row(
                "Evidently DataDriftPreset",
                f"{theirs['seconds']:.2f}",
                f"{theirs['rss_mb']:,.0f} MB",
                "1x",
                ", ".join(their_set),
            )
    console.print(table)
    console.print(f"expected drift in: {', '.join(sorted(SHIFTED))}")
    if theirs is None:
        console.print(f"[yellow]Evidently comparison skipped:[/] {why}")
    else:
        same = "✓ same columns" if our_set == their_set else "✗ the columns differ"
        speed, memory = theirs["seconds"] / ours["seconds"], ours["rss_mb"] / theirs["rss_mb"]
        console.print(
            f"{why}; {same}; targets: ≥30x faster {'✓' if speed >= 30 else '✗'} "
            f"({speed:.1f}x), ≤1/5 peak memory {'✓' if memory <= 0.2 else '✗'} "
            f"({memory:.2f})"
        )
    _profile_table(rows)


def _ratio(ours: dict[str, float], theirs: dict[str, float] | None) -> str:
    if theirs is None:
        return "-"
    return f"{theirs['seconds'] / ours['seconds']:.1f}x faster, {ours['rss_mb'] / theirs['rss_mb']:.2f} of the memory"


def _profile_table(rows: int) -> None:
    table = Table(title="profile updates against a reference (25 columns, generated batches)")
    for name in ("rows", "seconds", "rows/s", "peak RSS"):
        table.add_column(name, justify="right")
    for count in (rows, rows * 10):
        figures, out = measured([sys.executable, "-m", "bench.drift", "--profile-run", str(count)])
        inner = json.loads(out.splitlines()[-1])
        table.add_row(
            f"{count:,}",
            f"{inner['seconds']:.2f}",
            f"{inner['rows_per_s']:,.0f}",
            f"{figures['rss_mb']:,.0f} MB",
        )
    console.print(table)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--profile-run":
        profile_run(int(sys.argv[2]))
    else:
        main(sys.argv[1:])

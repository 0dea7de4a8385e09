"""Parquet files of the inference log: ``model=<name>/date=<YYYY-MM-DD>/part-….parquet``.

Each file is written to a hidden temporary name in its final folder, fsynced and renamed, so a
reader sees a whole file or none of it.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from modelward.paths import safe_join
from modelward.refs import check_name

log = logging.getLogger(__name__)

FILE_GLOB = "model=*/date=*/*.parquet"
_TEMP_GLOB = "model=*/date=*/.*.tmp"
_STALE_TEMP_SECONDS = 3600.0


def partition_dir(root: Path, model: str, day: date) -> Path:
    """The folder of one model's records for one UTC day (the name is validated first)."""
    return safe_join(root, f"model={check_name(model)}/date={day.isoformat()}")


def part_name(seq: int) -> str:
    """A new file name, unique across processes: ``part-<unix ns>-<pid>-<seq>.parquet``."""
    return f"part-{time.time_ns()}-{os.getpid()}-{seq}.parquet"


def write_table(folder: Path, name: str, table: pa.Table) -> Path:
    """Write ``table`` as ``folder/name`` atomically; an existing file of that name is replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    temp = folder / f".{name}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def clean_temp_files(root: Path) -> int:
    """Delete temporary files left by writers that died; keep those a live process may finish."""
    removed = 0
    for temp in root.glob(_TEMP_GLOB):
        try:
            pid = int(temp.name.rsplit(".", 2)[-2])
        except (ValueError, IndexError):
            pid = -1
        try:
            stale = time.time() - temp.stat().st_mtime > _STALE_TEMP_SECONDS
            if stale or not _alive(pid):
                temp.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its writer finished or another process cleaned it
    if removed:
        log.info("removed %d unfinished temporary file(s) under %s", removed, root)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True

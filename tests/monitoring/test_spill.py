from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelward.monitoring.inference_log import SPILL_DIR, InferenceLog
from modelward.monitoring.recovery import recover_spill
from modelward.monitoring.spill import SpillWriter, claim_orphans, read_frames
from modelward.monitoring.tables import records_table
from tests.monitoring.conftest import make_record, read_log

REPO = Path(__file__).resolve().parents[2]


def _spill(root: Path, count: int, prefix: str = "4242-1") -> Path:
    """A spill file with ``count`` records, left behind as by a crashed process."""
    writer = SpillWriter(root / SPILL_DIR, prefix)
    for i in range(count):
        writer.append(records_table([make_record(i, model="fraud" if i % 2 else "churn")]))
    spill = writer.seal()
    assert spill is not None
    spill.close()
    return spill.path


def test_crash_recovery_skips_a_cut_off_last_record(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _spill(root, 5)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 7)  # killed in the middle of the last write

    log = InferenceLog(root)
    log.start()
    stats = log.close()
    assert stats["recovered"] == 4 and stats["unrecoverable"] == 1
    assert stats["recorded"] == stats["written"] == 0
    assert sorted(set(read_log(root).column("request_id").to_pylist())) == [
        "churn-0",
        "churn-2",
        "fraud-1",
        "fraud-3",
    ]
    assert "cut off" in caplog.text and path.name in caplog.text
    assert not path.exists() and path.with_suffix(".damaged").exists()


def test_a_damaged_frame_in_the_middle_loses_only_that_record(root: Path) -> None:
    path = _spill(root, 3)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    log = InferenceLog(root)
    log.start()
    stats = log.close()
    assert stats["recovered"] == 2 and stats["unrecoverable"] == 1


def test_recovery_is_idempotent_when_interrupted_before_the_delete(root: Path) -> None:
    path = _spill(root, 4)
    copy = path.read_bytes()
    [spill] = claim_orphans(root / SPILL_DIR)
    assert recover_spill(spill, root).records == 4
    path.write_bytes(copy)  # as if the process died before the spill file was removed
    [again] = claim_orphans(root / SPILL_DIR)
    assert recover_spill(again, root).records == 4
    assert read_log(root).num_rows == 8  # 4 records x 2 rows, not twice that


def test_a_live_writers_spill_file_is_not_taken(root: Path) -> None:
    writer = SpillWriter(root / SPILL_DIR, "live")
    writer.append(records_table([make_record(1)]))
    assert claim_orphans(root / SPILL_DIR) == []
    log = InferenceLog(root)
    log.start()
    assert log.close()["recovered"] == 0
    spill = writer.seal()
    assert spill is not None
    assert len(list(read_frames(spill))) == 1
    spill.close()
    [orphan] = claim_orphans(root / SPILL_DIR)
    orphan.close()


def test_stray_temporary_files_of_dead_writers_are_removed(root: Path) -> None:
    folder = root / "model=churn" / "date=2024-05-01"
    folder.mkdir(parents=True)
    dead = folder / ".part-1-2-3.parquet.999999999.tmp"
    mine = folder / f".part-1-2-4.parquet.{os.getpid()}.tmp"
    dead.write_bytes(b"half")
    mine.write_bytes(b"half")
    log = InferenceLog(root)
    log.start()
    log.close()
    assert not dead.exists() and mine.exists()


CHILD = """
import sys, time
from pathlib import Path
from modelward.monitoring.inference_log import InferenceLog
from tests.monitoring.conftest import make_record

log = InferenceLog(Path(sys.argv[1]), max_queue=0, flush_interval=3600)
log.start()
for i in range(int(sys.argv[2])):
    log.record(make_record(i, model="fraud" if i % 3 else "churn", day=i % 2))
print(log.stats()["spilled"], flush=True)
time.sleep(120)
"""


def test_records_of_a_killed_process_are_recovered(root: Path) -> None:
    count = 25
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(root), str(count)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == str(count)
        assert not list(root.glob("model=*")), "the child wrote Parquet; nothing to recover"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    log = InferenceLog(root)
    log.start()
    stats = log.close()
    assert stats["recovered"] == count and stats["unrecoverable"] == 0
    table = read_log(root)
    assert table.num_rows == 2 * count
    assert len(set(table.column("request_id").to_pylist())) == 25
    assert not list((root / SPILL_DIR).glob("*.spill"))

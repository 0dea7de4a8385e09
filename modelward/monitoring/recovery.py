"""Turning spill files into Parquet, exactly once even if recovery itself is interrupted."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa

from modelward.monitoring import partitions
from modelward.monitoring.spill import DAMAGED_SUFFIX, Damaged, SpillFile, read_frames
from modelward.monitoring.tables import concat_tables

log = logging.getLogger(__name__)

CHUNK_RECORDS = 50_000


@dataclass(frozen=True)
class Recovered:
    """What one spill file gave back."""

    records: int
    damaged: int


def recover_spill(spill: SpillFile, root: Path, *, chunk_records: int = CHUNK_RECORDS) -> Recovered:
    """Write every readable record of ``spill`` to Parquet, then remove the spill file.

    Output names derive from the spill file's name and the record's position, so running this
    again after a crash replaces the same Parquet files instead of duplicating records. A file
    with damaged stretches is kept as ``*.damaged`` for inspection once its records are out.
    """
    records = damaged = chunk_index = 0
    chunk: list[pa.Table] = []
    for item in read_frames(spill):
        if isinstance(item, Damaged):
            damaged += 1
            log.warning(
                "spill file %s: unrecoverable data at byte %d (%s)",
                spill.path,
                item.offset,
                item.reason,
            )
            continue
        chunk.append(item)
        if len(chunk) >= chunk_records:
            _write_chunk(chunk, root, f"{spill.path.stem}-{chunk_index}")
            records += len(chunk)
            chunk_index += 1
            chunk = []
    if chunk:
        _write_chunk(chunk, root, f"{spill.path.stem}-{chunk_index}")
        records += len(chunk)
    if damaged:
        kept = spill.path.with_suffix(DAMAGED_SUFFIX)
        os.replace(spill.path, kept)
        log.warning(
            "spill file %s: %d record(s) recovered, %d unrecoverable; kept as %s",
            spill.path.name,
            records,
            damaged,
            kept,
        )
    else:
        spill.path.unlink(missing_ok=True)
    spill.close()
    return Recovered(records, damaged)


def _write_chunk(tables: list[pa.Table], root: Path, stem: str) -> None:
    groups: dict[tuple[str, date], list[pa.Table]] = {}
    for table in tables:
        model = table.column("model")[0].as_py()
        day = table.column("time")[0].as_py().date()  # timestamps come back in UTC
        groups.setdefault((model, day), []).append(table)
    for index, key in enumerate(sorted(groups)):
        folder = partitions.partition_dir(root, *key)
        partitions.write_table(folder, f"part-r-{stem}-{index}.parquet", concat_tables(groups[key]))

"""One chunk of a batch run: score it, refuse or skip its bad rows, add the kept input columns.

The same function runs in this process (``--workers 1``) and in worker processes, so a chunk
gives the same rows, the same skips and the same errors whichever way it was scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from modelward.batch.skips import score_skipping
from modelward.columns import frame_columns
from modelward.errors import InvalidInputError
from modelward.registry.loaded import LoadedModel

#: What ``--on-error`` accepts: stop at the first bad chunk, or leave bad rows out.
ON_ERROR = ("fail", "skip")


@dataclass(frozen=True)
class ChunkJob:
    """How every chunk of a run is scored (small and picklable: it travels to workers)."""

    params: dict[str, Any] = field(default_factory=dict)
    keep_columns: tuple[str, ...] = ()
    on_error: str = "fail"


@dataclass(frozen=True)
class Chunk:
    """Rows read from the input: ``offset`` is the file row number of the first one."""

    offset: int
    frame: pd.DataFrame
    progress: float  # how far through the input file reading had got (0..1)


@dataclass(frozen=True)
class ChunkResult:
    """A scored chunk: the rows to write, and the input rows left out with their reasons."""

    rows_in: int
    frame: pd.DataFrame
    skipped: dict[int, list[str]]


def score_chunk(model: LoadedModel, frame: pd.DataFrame, offset: int, job: ChunkJob) -> ChunkResult:
    """Score the rows of ``frame``, whose first row is row ``offset`` of the input file."""
    missing = [c for c in job.keep_columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"columns to keep are missing from the input: {missing}")
    kept = None
    skipped: dict[int, list[str]] = {}
    if job.on_error == "skip":
        predictions, kept, skipped = score_skipping(model, frame, job.params, offset)
    else:  # numpy columns: the same checks and scores as ``score``, without pandas per row
        outputs = model.score_columns(frame_columns(frame), job.params, row_offset=offset)
        predictions = pd.DataFrame(outputs)
    if job.keep_columns:
        ids = frame[list(job.keep_columns)]
        if kept is not None:
            ids = ids.iloc[kept]
        predictions = pd.concat([ids.reset_index(drop=True), predictions], axis=1)
    return ChunkResult(len(frame), predictions, skipped)

"""Score a data file with a loaded model, chunk by chunk, in input order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.batch.files import AtomicWriter, ChunkReader, existing_file
from modelward.errors import InvalidInputError
from modelward.registry.loaded import LoadedModel

Progress = Callable[[int, float], None]


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did."""

    rows_in: int
    rows_out: int
    output: Path


def predict_file(
    model: LoadedModel,
    input_path: str | Path,
    output_path: str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    chunk_rows: int = 65_536,
    keep_columns: list[str] | None = None,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Predict every row of ``input_path`` into ``output_path`` (written only on success).

    Rows keep their input order; ``keep_columns`` copies input columns (e.g. an id) next to
    the predictions. Memory stays bounded by ``chunk_rows`` whatever the file size.
    """
    source = existing_file(input_path)
    target = Path(output_path).expanduser().resolve()
    if target == source:
        raise InvalidInputError("the output file would overwrite the input file")
    if chunk_rows < 1:
        raise InvalidInputError(f"chunk size must be at least 1, got {chunk_rows}")
    reader = ChunkReader(source, chunk_rows=chunk_rows)
    rows_in = 0
    with AtomicWriter(target) as writer:
        for chunk in reader:
            if keep_columns:
                missing = [c for c in keep_columns if c not in chunk.columns]
                if missing:
                    raise InvalidInputError(
                        f"columns to keep are missing from the input: {missing}"
                    )
            predictions = model.score(chunk, dict(params or {}), row_offset=rows_in)
            if keep_columns:
                predictions = pd.concat(
                    [chunk[keep_columns].reset_index(drop=True), predictions], axis=1
                )
            writer.write(predictions)
            rows_in += len(chunk)
            if on_progress is not None:
                on_progress(rows_in, reader.progress)
    return BatchResult(rows_in, writer.rows, target)

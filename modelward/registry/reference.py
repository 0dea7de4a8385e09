"""The reference profile of a version, built at registration from its training data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from modelward.batch.files import ChunkReader, existing_file
from modelward.errors import InvalidDataError
from modelward.frames import as_frame
from modelward.monitoring.reference import (
    OUTPUT_ROWS,
    ReferenceProfile,
    profile_inputs,
    profile_outputs,
)
from modelward.runtimes.base import Runtime
from modelward.signatures import Signature

log = logging.getLogger(__name__)


def build_reference(
    runtime: Runtime, signature: Signature | None, training_data: Any
) -> tuple[ReferenceProfile, str | None]:
    """Profile the training data's inputs (every row, streamed) and the loaded model's outputs on
    its first :data:`OUTPUT_ROWS` rows; returns the profile and why outputs are missing, if so."""
    names = signature.input_names if signature and signature.inputs else None
    pii = signature.pii_columns if signature else []
    try:
        inputs = profile_inputs(_batches(training_data), names, pii)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InvalidDataError(
            f"cannot profile the training data: {exc}",
            hint="give training data as a DataFrame or a CSV/Parquet/JSON-lines file of columns",
        ) from exc
    if signature is None:
        return ReferenceProfile(inputs, None), "the model has no signature"
    if not signature.inputs:
        return ReferenceProfile(inputs, None), "the model takes no inputs (a forecaster)"
    head = _head(training_data, OUTPUT_ROWS)
    try:
        predicted = runtime.predict(signature.conform(head), {})
    except Exception as exc:  # the reference is a bonus: say why outputs are missing
        note = f"scoring the training data failed: {exc}"
        log.warning("no output reference profile: %s", note)
        return ReferenceProfile(inputs, None), note
    outputs = as_frame(predicted, default_name="prediction")
    return ReferenceProfile(inputs, profile_outputs(outputs, pii)), None


def _frames(data: Any) -> Iterator[pd.DataFrame]:
    if isinstance(data, str | Path):
        yield from ChunkReader(existing_file(data))
    else:
        yield data if isinstance(data, pd.DataFrame) else as_frame(data)


def _batches(data: Any) -> Iterator[pa.RecordBatch]:
    for frame in _frames(data):
        yield from pa.Table.from_pandas(frame, preserve_index=False).to_batches(65_536)


def _head(data: Any, rows: int) -> pd.DataFrame:
    parts, count = [], 0
    for frame in _frames(data):
        parts.append(frame.head(rows - count))
        count += len(parts[-1])
        if count >= rows:
            break
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

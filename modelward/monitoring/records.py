"""The inference record: one scored request, as the scoring server hands it to the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from modelward.errors import InvalidInputError
from modelward.refs import check_name


@dataclass(frozen=True, slots=True)
class InferenceRecord:
    """One request: which model version was asked what, what it answered, and how fast.

    ``inputs`` and ``outputs`` are 1-D numpy columns of equal length (strings as object
    arrays); ``outputs`` may be empty on error, and both may be empty when the request never
    reached the model. The log takes ownership of the arrays: do not change them afterwards.
    """

    request_id: str
    time: datetime
    model: str
    version: int
    status: int
    latency_ms: float
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None
    protocol: str = "oip"

    @property
    def day(self) -> date:
        """The UTC day the request was served on (its partition)."""
        return self.time.astimezone(UTC).date()


def check_record(record: InferenceRecord) -> int:
    """The number of scored rows in ``record``; raise InvalidInputError if it is malformed.

    Costs one check per column, never per row, so it is cheap enough for the hot path.
    """
    if not isinstance(record, InferenceRecord):
        raise InvalidInputError(
            f"the inference log takes InferenceRecord objects, not {type(record).__name__}"
        )
    check_name(record.model)
    if not isinstance(record.time, datetime) or record.time.utcoffset() is None:
        raise InvalidInputError(
            f"inference record {record.request_id!r} has a time without a time zone",
            hint="pass datetime.now(UTC), not datetime.now()",
        )
    rows_in = _rows(record.inputs, "inputs", record.request_id)
    rows_out = _rows(record.outputs, "outputs", record.request_id)
    if record.inputs and record.outputs and rows_in != rows_out:
        raise InvalidInputError(
            f"inference record {record.request_id!r} has {rows_in} input rows "
            f"but {rows_out} output rows",
            hint="log one output row per input row, or no outputs when the request failed",
        )
    return max(rows_in, rows_out)


def _rows(columns: dict[str, np.ndarray], side: str, request_id: str) -> int:
    lengths = set()
    for name, array in columns.items():
        if not isinstance(array, np.ndarray) or array.ndim != 1:
            raise InvalidInputError(
                f"inference record {request_id!r}: {side} column {name!r} is not a 1-D numpy array",
                hint="flatten each column to one value per row before logging",
            )
        lengths.add(len(array))
    if len(lengths) > 1:
        raise InvalidInputError(
            f"inference record {request_id!r}: {side} columns have different lengths "
            f"{sorted(lengths)}"
        )
    return lengths.pop() if lengths else 0

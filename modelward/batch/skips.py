"""``--on-error skip``: leave out the rows that cannot be scored, and say why in a report.

Two kinds of rows are left out. Rows that break the signature are found in one vectorised pass
(:func:`~modelward.signatures.row_problems`). Rows on which the model itself raises are found by
bisection: a failing slice is split in two and each half retried, so one bad row in a chunk of
``n`` costs about ``2·log2(n)`` extra predict calls, and every row that can be scored is.
Problems of the whole file (a missing column, an unknown parameter) still stop the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pandas as pd

from modelward.batch.files import AtomicFile
from modelward.errors import (
    InvalidInputError,
    ModelFailedError,
    ModelwardError,
    SignatureViolationError,
)
from modelward.registry.loaded import LoadedModel
from modelward.signatures import check_columns, row_problems

#: More rows than this failing in the model within one chunk means a broken model, not bad rows.
MAX_MODEL_FAILURES = 1000
_SCHEMA_HINT = (
    "--on-error skip leaves out rows with bad values, not missing columns: "
    "add the column(s) to the input or score with a version whose signature matches"
)

Scored = tuple[pd.DataFrame, np.ndarray, dict[int, list[str]]]


def score_skipping(
    model: LoadedModel, frame: pd.DataFrame, params: Mapping[str, Any], offset: int
) -> Scored:
    """Predictions for the rows that can be scored, their positions, and the others' reasons."""
    positions = np.arange(len(frame))
    try:
        return (
            _one_per_row(model.score(frame, params, row_offset=offset), len(frame)),
            positions,
            {},
        )
    except SignatureViolationError:
        signature = model.version.signature
        if signature is None:
            raise
        schema = check_columns(signature.inputs, frame.head(0))  # only whole-column problems
        if schema:
            raise SignatureViolationError(schema, hint=_SCHEMA_HINT) from None
        bad, reasons = row_problems(signature, frame)
        if not bad.any():
            raise  # a problem no row can be blamed for
        positions = np.flatnonzero(~bad)
        failed: BaseException | None = None
    except Exception as exc:
        if not is_model_failure(exc):
            raise
        reasons, failed = {}, exc
    rows = frame.iloc[positions].reset_index(drop=True)
    predictions, scored, failures = _bisect(model, rows, params, failed, offset)
    for at, reason in failures.items():
        reasons[int(positions[at])] = [reason]
    skipped = {offset + i: reasons[i] for i in sorted(reasons)}
    return predictions, positions[scored], skipped


def is_model_failure(exc: BaseException) -> bool:
    """True for errors the model raised on some rows (not bad calls, outages or bugs of ours)."""
    if isinstance(exc, ModelFailedError):
        return True
    return isinstance(exc, Exception) and not isinstance(exc, ModelwardError | MemoryError)


def _bisect(
    model: LoadedModel,
    frame: pd.DataFrame,
    params: Mapping[str, Any],
    failed: BaseException | None,
    offset: int,
) -> tuple[pd.DataFrame, np.ndarray, dict[int, str]]:
    """Score ``frame`` by halving the slices the model fails on, down to single rows."""
    parts: list[tuple[int, pd.DataFrame]] = []
    failures: dict[int, str] = {}

    def attempt(start: int, stop: int) -> BaseException | None:
        try:
            out = model.score(frame.iloc[start:stop].reset_index(drop=True), params)
        except Exception as exc:
            if not is_model_failure(exc):
                raise
            return exc
        parts.append((start, _one_per_row(out, stop - start)))
        return None

    failing: list[tuple[int, int, BaseException]] = []
    if len(frame):
        first = failed if failed is not None else attempt(0, len(frame))
        if first is not None:
            failing.append((0, len(frame), first))
    while failing:
        halves: list[tuple[int, int, BaseException]] = []
        for start, stop, error in failing:
            if stop - start == 1:
                failures[start] = _reason(error)
                continue
            middle = (start + stop) // 2
            for a, b in ((start, middle), (middle, stop)):
                half_error = attempt(a, b)
                if half_error is not None:
                    halves.append((a, b, half_error))
        if len(failures) + len(halves) > MAX_MODEL_FAILURES:  # each failing slice holds a bad row
            raise ModelFailedError(
                f"the model fails on more than {MAX_MODEL_FAILURES} rows of the chunk starting "
                f"at row {offset}: {_reason(failing[0][2])}",
                hint="that looks like a broken model rather than bad rows; "
                "run with --on-error fail to see the first error",
            )
        failing = halves
    parts.sort(key=lambda part: part[0])
    scored = np.ones(len(frame), dtype=bool)
    scored[list(failures)] = False
    predictions = pd.concat([p for _, p in parts], ignore_index=True) if parts else pd.DataFrame()
    return predictions, np.flatnonzero(scored), failures


def _one_per_row(predictions: pd.DataFrame, rows: int) -> pd.DataFrame:
    if len(predictions) != rows:
        raise InvalidInputError(
            f"the model returned {len(predictions)} rows for {rows} input rows",
            hint="--on-error skip needs one prediction per input row; "
            "use --on-error fail for models that return other shapes (forecasts)",
        )
    return predictions


def _reason(error: BaseException) -> str:
    if isinstance(error, ModelwardError):
        return error.message
    return f"the model failed: {type(error).__name__}: {error}"


class SkipReport:
    """Skipped rows as JSON lines ``{"row": N, "reasons": [...]}``, renamed in on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._file = AtomicFile(path)
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> SkipReport:
        self._fh = self._file.__enter__()
        return self

    def add(self, skipped: Mapping[int, list[str]]) -> None:
        """Append the rows skipped in one chunk (row numbers count from 0 in the input file)."""
        assert self._fh is not None
        lines = (
            json.dumps({"row": row, "reasons": reasons}, ensure_ascii=False) + "\n"
            for row, reasons in skipped.items()
        )
        self._fh.write("".join(lines).encode())
        self.rows += len(skipped)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.__exit__(exc_type, exc, tb)

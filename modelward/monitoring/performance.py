"""Model performance over a window of labelled records, and the model's accuracy goals on it.

A window holds the answered requests (status 200) *served* in ``[start, end)`` that have a
label by now (see :func:`modelward.monitoring.labels.labelled_records`). Classification metrics
come from :mod:`modelward.governance.metrics`, as in validation, so a goal means the same thing
before and after deployment. A window without labelled rows gives ``n_labelled == 0`` and no
metrics ("insufficient data"), never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelward.config import Settings
from modelward.errors import InvalidInputError
from modelward.governance import metrics as shared
from modelward.governance.goals import check_record, parse_goals
from modelward.monitoring.labels import labelled_records
from modelward.monitoring.tables import OUTPUT_PREFIX
from modelward.monitoring.windows import to_utc

TASKS = ("classification", "regression", "forecast")
INSUFFICIENT = "insufficient data"
_PROBABILITY = OUTPUT_PREFIX + "probability_"
_PREFERRED = (OUTPUT_PREFIX + "prediction", OUTPUT_PREFIX + "forecast")


@dataclass(frozen=True)
class PerformanceResult:
    """Metrics of one model over one window; ``metrics`` is empty when nothing was labelled."""

    model: str
    start: datetime
    end: datetime
    task: str | None
    n_labelled: int
    metrics: dict[str, float] = field(default_factory=dict)
    prediction_column: str | None = None
    score_columns: tuple[str, ...] = ()
    average: str | None = None  # how precision/recall/F1 were averaged (classification)
    version: int | None = None
    skipped_files: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """``ok``, or ``insufficient data`` when no metric could be computed."""
        return "ok" if self.metrics else INSUFFICIENT

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        out = asdict(self)
        out.update(start=self.start.isoformat(), end=self.end.isoformat(), status=self.status)
        return out


def performance(
    home: Settings | Path | str,
    model: str,
    start: datetime,
    end: datetime,
    *,
    task: str | None = None,
    prediction_column: str | None = None,
    score_column: str | None = None,
    version: int | None = None,
) -> PerformanceResult:
    """Metrics of ``model`` on the labelled records served in ``[start, end)``.

    ``task`` is guessed when not given (see docs/labels-and-kpis.md); ``prediction_column`` and
    ``score_column`` name outputs with or without their ``output__`` prefix.
    """
    if task is not None and task not in TASKS:
        raise InvalidInputError(f"unknown task {task!r}", hint=f"use one of: {', '.join(TASKS)}")
    frame = labelled_records(home, model, start, end, version=version)
    empty = PerformanceResult(
        model=model,
        start=to_utc(start),
        end=to_utc(end),
        task=task,
        n_labelled=0,
        version=version,
        skipped_files=tuple(frame.attrs.get("skipped_files", [])),
    )
    if frame.empty:
        return empty
    outputs = [str(c) for c in frame.columns if str(c).startswith(OUTPUT_PREFIX)]
    predicted = _prediction_column(outputs, prediction_column, score_column)
    scores = _score_columns(outputs, score_column)
    frame = frame[frame["label"].notna() & frame[predicted].notna()]
    labels = _labels(frame["label"], frame[predicted])
    if frame.empty:
        return replace(empty, prediction_column=predicted, score_columns=tuple(scores))
    chosen = task or _guess_task(labels, frame[predicted], predicted, scores)
    found, average = _metrics(chosen, labels, frame, predicted, scores, score_column is not None)
    return replace(
        empty,
        task=chosen,
        n_labelled=len(frame),
        metrics=found,
        prediction_column=predicted,
        score_columns=tuple(scores),
        average=average,
    )


def check_goals(
    metrics: Mapping[str, float] | PerformanceResult, goals: Iterable[str | Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One check record per accuracy goal (as in validation reports); every goal is
    ``skipped`` when the window had no labelled records."""
    found = metrics.metrics if isinstance(metrics, PerformanceResult) else metrics
    parsed = parse_goals(goals, where="accuracy goal")
    if not found:
        detail = f"{INSUFFICIENT}: no labelled records in the window"
        return [check_record("goal", f"goal {goal}", None, detail) for goal in parsed]
    return [goal.check("goal", found) for goal in parsed]


def _prediction_column(outputs: list[str], given: str | None, score: str | None) -> str:
    """The output holding the prediction: the one named, else ``prediction`` or ``forecast``,
    else the first output that is not a probability or the score."""
    if given is not None:
        return _output(outputs, given, "prediction column")
    for name in _PREFERRED:
        if name in outputs:
            return name
    skip = _output(outputs, score, "score column") if score is not None else None
    for name in outputs:
        if not name.startswith(_PROBABILITY) and name != skip:
            return name
    raise InvalidInputError(
        f"the log holds no prediction output (outputs: {', '.join(outputs) or 'none'})",
        hint="name it with prediction_column (--prediction-column)",
    )


def _score_columns(outputs: list[str], given: str | None) -> list[str]:
    if given is not None:
        return [_output(outputs, given, "score column")]
    return [name for name in outputs if name.startswith(_PROBABILITY)]


def _output(outputs: list[str], name: str, what: str) -> str:
    column = name if name.startswith(OUTPUT_PREFIX) else OUTPUT_PREFIX + name
    if column not in outputs:
        raise InvalidInputError(
            f"{what} {name!r} is not an output of the logged records",
            hint=f"outputs: {', '.join(o.removeprefix(OUTPUT_PREFIX) for o in outputs) or 'none'}",
        )
    return column


def _labels(labels: pd.Series, predicted: pd.Series) -> pd.Series:
    """Labels stored as text that are all numbers become numbers when the predictions are."""
    if pd.api.types.is_numeric_dtype(labels) or not pd.api.types.is_numeric_dtype(predicted):
        return labels
    numbers = pd.to_numeric(labels, errors="coerce")
    return numbers if numbers.notna().all() else labels


def _guess_task(labels: pd.Series, predicted: pd.Series, name: str, scores: list[str]) -> str:
    if name == OUTPUT_PREFIX + "forecast":
        return "forecast"
    if any(s.startswith(_PROBABILITY) for s in scores):
        return "classification"
    return shared.guess_task(labels, None, predicted)


def _metrics(
    task: str,
    labels: pd.Series,
    frame: pd.DataFrame,
    predicted: str,
    scores: list[str],
    single_score: bool,
) -> tuple[dict[str, float], str | None]:
    """The task's metrics; a score column named by the caller is one binary score, even if it
    is a ``probability_<class>`` output."""
    if task != "classification":
        y, p = _numbers(labels, "labels", task), _numbers(frame[predicted], predicted, task)
        return (_regression(y, p) if task == "regression" else _forecast(y, p)), None
    probabilities = [] if single_score else scores
    scored = frame[probabilities].rename(columns=lambda c: c.removeprefix(OUTPUT_PREFIX))
    scored.insert(0, "prediction", frame[predicted])
    found, average = shared.compute(
        "classification", labels.reset_index(drop=True), scored.reset_index(drop=True)
    )
    if single_score:
        found.update(_binary_score(labels, frame[scores[0]], frame[predicted]))
    return found, average


def _numbers(values: pd.Series, what: str, task: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or pd.api.types.is_bool_dtype(values):
        raise InvalidInputError(
            f"{task} needs numbers, but {what} are not all numeric",
            hint="use task='classification' for class labels",
        )
    return np.asarray(numbers.to_numpy(dtype=float))


def _regression(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as m

    found = {
        "rmse": math.sqrt(m.mean_squared_error(y, p)),
        "mae": m.mean_absolute_error(y, p),
        "mape": _mape(y, p),
        "r2": m.r2_score(y, p) if len(y) > 1 and np.ptp(y) > 0 else None,
    }
    return _finite(found)


def _forecast(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """MAPE, sMAPE and MASE, with MASE scaled by the naive one-step forecast of the labels in
    the window (the mean absolute change between consecutive labels, in serving order)."""
    errors = np.abs(y - p)
    both = np.abs(y) + np.abs(p)
    scale = float(np.mean(np.abs(np.diff(y)))) if len(y) > 1 else 0.0
    found = {
        "mae": float(np.mean(errors)),
        "rmse": math.sqrt(float(np.mean(errors**2))),
        "mape": _mape(y, p),
        "smape": float(np.mean(2 * errors[both > 0] / both[both > 0]))
        if (both > 0).any()
        else None,
        "mase": float(np.mean(errors)) / scale if scale > 0 else None,
    }
    return _finite(found)


def _mape(y: np.ndarray, p: np.ndarray) -> float | None:
    """Mean absolute percentage error as a fraction, over the rows whose label is not zero."""
    nonzero = y != 0
    return float(np.mean(np.abs(y - p)[nonzero] / np.abs(y[nonzero]))) if nonzero.any() else None


def _binary_score(labels: pd.Series, score: pd.Series, predicted: pd.Series) -> dict[str, float]:
    """ROC AUC (and log loss for probabilities) of one score column for the positive class:
    the largest of the classes seen, as for precision and recall."""
    from sklearn import metrics as m

    seen = set(labels.tolist()) | set(predicted.tolist())
    try:
        classes = sorted(seen)
    except TypeError:
        classes = sorted(seen, key=str)
    values = pd.to_numeric(score, errors="coerce").to_numpy(dtype=float)
    if len(classes) != 2 or np.isnan(values).any():
        return {}
    truth = labels.to_numpy() == classes[-1]
    if truth.all() or not truth.any():
        return {}
    found: dict[str, Any] = {"roc_auc": m.roc_auc_score(truth, values)}
    if ((values >= 0) & (values <= 1)).all():
        found["log_loss"] = m.log_loss(truth, np.column_stack([1 - values, values]))
    return _finite(found)


def _finite(values: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(float(v))}

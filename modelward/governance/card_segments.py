"""Per-segment metrics for a model card's quantitative analyses.

The model scores the whole data once (with class probabilities when it offers them); the
output is then split by the segment column's values and each slice, and the whole, is measured
with the validation metric functions (:mod:`modelward.governance.metrics`): accuracy, F1 and
ROC AUC for classifiers, RMSE and MAE for regressors. A metric a slice cannot define (ROC AUC of
a slice holding one class) is ``None``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from modelward.errors import InvalidDataError, InvalidInputError
from modelward.governance.metrics import compute, guess_task
from modelward.registry.loaded import LoadedModel

MAX_SEGMENTS = 50
ALL = "(all)"
MISSING = "(missing)"
SHOWN = {"classification": ("accuracy", "f1", "roc_auc"), "regression": ("rmse", "mae")}
_PROBABILITY = "probability_"


def segment_metrics(
    model: LoadedModel, frame: pd.DataFrame, column: str, label_column: str
) -> dict[str, Any]:
    """Metrics of ``model`` on ``frame`` overall and per value of ``column``."""
    missing = [c for c in (column, label_column) if c not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"the data has no column {', '.join(map(repr, missing))}",
            hint=f"its columns are: {', '.join(map(str, frame.columns))}",
        )
    labels = frame[label_column].reset_index(drop=True)
    if labels.isna().any():
        raise InvalidDataError(f"the label column {label_column!r} has missing values")
    keys = frame[column].reset_index(drop=True).astype(object)
    keys = keys.where(keys.notna() & (keys.astype(str).str.strip() != ""), MISSING).astype(str)
    if keys.nunique() > MAX_SEGMENTS:
        raise InvalidInputError(
            f"column {column!r} has {keys.nunique()} distinct values; at most {MAX_SEGMENTS} "
            "segments are measured",
            hint="segment by a categorical column, or bin the values into a new column first",
        )
    scored = _score(model, _features(model, frame, column, label_column))
    classes = [c for c in scored.columns if str(c).startswith(_PROBABILITY)]
    task = guess_task(labels, classes or None)
    rows = [_measure(ALL, task, labels, scored)]
    for key in sorted(keys.unique()):
        mask = (keys == key).to_numpy()
        part = scored[mask].reset_index(drop=True)
        rows.append(_measure(key, task, labels[mask].reset_index(drop=True), part))
    return {
        "column": column,
        "label_column": label_column,
        "task": task,
        "metrics": list(SHOWN[task]),
        "segments": rows,
    }


def _features(model: LoadedModel, frame: pd.DataFrame, column: str, label: str) -> pd.DataFrame:
    if model.version.signature is not None:
        return frame.drop(columns=[label])  # the signature picks the inputs it knows
    return frame.drop(columns=list({label, column}))


def _score(model: LoadedModel, features: pd.DataFrame) -> pd.DataFrame:
    """The model's output, with class probabilities when the flavor offers them."""
    try:
        return model.predict(features, proba=True)
    except InvalidInputError:  # no such parameter, or a model without probabilities
        return model.predict(features)


def _measure(key: str, task: str, labels: pd.Series, scored: pd.DataFrame) -> dict[str, Any]:
    try:
        found, _ = compute(task, labels, scored)
    except ValueError:  # a slice the metrics cannot be defined on
        found = {}
    return {"segment": key, "rows": len(labels), **{m: found.get(m) for m in SHOWN[task]}}

"""Validation metrics: what is computed for classifiers and regressors, and which way is better."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION = ("rmse", "mae", "mape", "r2")
KNOWN = CLASSIFICATION + REGRESSION
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae", "mape"})
#: Other names people write for a metric.
SYNONYMS = {"auc": "roc_auc", "f1_score": "f1", "logloss": "log_loss", "r2_score": "r2"}
TASKS = ("classification", "regression")
_MAX_CLASSES = 20  # integer labels with at most this many values are taken as classes


def canonical_metric(name: str) -> str | None:
    """The known metric ``name`` stands for, or ``None``."""
    key = name.strip().lower()
    key = SYNONYMS.get(key, key)
    return key if key in KNOWN else None


def higher_is_better(metric: str) -> bool:
    """True unless the metric is an error or a loss."""
    return metric not in LOWER_IS_BETTER


def guess_task(
    labels: pd.Series, classes: list[Any] | None, predicted: pd.Series | None = None
) -> str:
    """``classification`` when the model reports classes, or when its predictions and the
    labels both look like a few classes; ``regression`` otherwise."""
    if classes is not None:
        return "classification"
    if predicted is not None and _fractional(predicted):
        return "regression"
    if not pd.api.types.is_numeric_dtype(labels) or pd.api.types.is_bool_dtype(labels):
        return "classification"
    few = labels.nunique() <= _MAX_CLASSES
    return "classification" if few and not _fractional(labels) else "regression"


def _fractional(values: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    numbers = values.dropna().to_numpy(dtype=float)
    return bool(np.any(np.mod(numbers, 1) != 0))


def compute(task: str, labels: pd.Series, scored: pd.DataFrame) -> tuple[dict[str, float], str]:
    """Metrics of ``scored`` (the model's output frame) against ``labels``, and how averaged."""
    predicted = prediction_column(scored)
    if task == "regression":
        return _regression(labels.to_numpy(dtype=float), predicted.to_numpy(dtype=float)), "-"
    return _classification(labels, predicted, scored)


def prediction_column(scored: pd.DataFrame) -> pd.Series:
    """The model's prediction: ``prediction`` or its first output that is not a probability."""
    if "prediction" in scored.columns:
        return scored["prediction"]
    for column in scored.columns:
        if not str(column).startswith("probability_"):
            return scored[column]
    raise ValueError("the model returned only probability columns")


def _regression(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as m

    return _finite(
        {
            "rmse": math.sqrt(m.mean_squared_error(y, p)),
            "mae": m.mean_absolute_error(y, p),
            "mape": m.mean_absolute_percentage_error(y, p),
            "r2": m.r2_score(y, p) if len(y) > 1 else float("nan"),
        }
    )


def _classification(
    labels: pd.Series, predicted: pd.Series, scored: pd.DataFrame
) -> tuple[dict[str, float], str]:
    from sklearn import metrics as m

    y = _as_labels(labels, predicted)
    classes = _sorted(set(y) | set(predicted.tolist()))
    binary = len(classes) <= 2
    average = "binary" if binary else "macro"
    options: dict[str, Any] = {"average": average, "zero_division": 0}
    if binary:
        options["pos_label"] = classes[-1]
    out = {
        "accuracy": m.accuracy_score(y, predicted),
        "precision": m.precision_score(y, predicted, **options),
        "recall": m.recall_score(y, predicted, **options),
        "f1": m.f1_score(y, predicted, **options),
    }
    proba = [c for c in scored.columns if str(c).startswith("probability_")]
    if proba:
        names = [str(c)[len("probability_") :] for c in proba]
        matrix = scored[proba].to_numpy(dtype=float)
        truth = np.array([str(v) for v in y])
        present = set(truth.tolist())
        if present <= set(names) and len(present) > 1:
            out["log_loss"] = m.log_loss(truth, matrix, labels=names)
            if len(names) == 2:
                out["roc_auc"] = m.roc_auc_score(truth == names[1], matrix[:, 1])
            else:
                out["roc_auc"] = m.roc_auc_score(truth, matrix, multi_class="ovr", labels=names)
    label = f"{average} (positive class {classes[-1]})" if binary else average
    return _finite(out), label


def _as_labels(labels: pd.Series, predicted: pd.Series) -> list[Any]:
    """Labels in the predictions' type, so that ``1`` (read from CSV) matches ``1`` and ``'1'``."""
    sample = predicted.dropna()
    if len(sample) and isinstance(sample.iloc[0], str):
        return [str(v) for v in labels]
    whole = pd.api.types.is_float_dtype(labels) and bool((labels.dropna() % 1 == 0).all())
    if pd.api.types.is_integer_dtype(predicted) and whole and not labels.isna().any():
        return [int(v) for v in labels]
    if pd.api.types.is_numeric_dtype(predicted) and pd.api.types.is_numeric_dtype(labels):
        return [v.item() if hasattr(v, "item") else v for v in labels]
    return labels.tolist()


def _sorted(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _finite(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if v is not None and math.isfinite(float(v))}

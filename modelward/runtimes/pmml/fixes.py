"""Workarounds for sklearn-pmml-model: category codes for trees, forest and OvR probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Estimators that read categorical inputs as category codes (their Cython trees split on codes).
NEEDS_CODES = frozenset({"PMMLTreeClassifier", "PMMLTreeRegressor"})


def category_codes(x: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Categorical inputs as the codes the estimator's trees split on (its own category order)."""
    x = x.copy()
    for name, (_, kind) in model.field_mapping.items():
        categories = getattr(kind, "categories", None)
        if name in x.columns and categories is not None:
            x[name] = pd.Categorical(x[name], categories=categories).codes.astype(float)
    return x


def probabilities(model: Any, x: pd.DataFrame) -> np.ndarray:
    """Class probabilities as the PMML describes them (one-vs-rest chains included)."""
    proba = np.asarray(model.predict_proba(x.copy()), dtype=float)
    if getattr(model, "multi_class", None) == "ovr" and proba.shape[1] > 2:
        # A one-vs-rest chain of logistic regressions: scikit-learn >= 1.5 ignores multi_class
        # and applies softmax; recompute what the PMML describes (normalised sigmoids).
        scores = model.decision_function(model._prepare_data(x.copy()))
        sigmoid = 1.0 / (1.0 + np.exp(-np.asarray(scores, dtype=float)))
        proba = sigmoid / sigmoid.sum(axis=1, keepdims=True)
    return proba


def normalise_forest(model: Any) -> None:
    """Make forest trees hold class fractions, as scikit-learn >= 1.4 trees must.

    sklearn-pmml-model builds forest trees from raw record counts, so the forest averaged
    counts instead of probabilities: wrong probabilities, and at times a wrong majority.
    """
    if type(model).__name__ != "PMMLForestClassifier":
        return
    for tree in model.estimators_:
        values = tree.tree_.value  # a writable view of the tree's own buffer
        totals = values.sum(axis=-1, keepdims=True)
        np.divide(values, totals, out=values, where=totals > 0)

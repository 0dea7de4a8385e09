"""The PMML runtime: scores a stored PMML document with a sklearn-pmml-model estimator."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError
from modelward.runtimes.base import Runtime, class_probabilities, output_frame
from modelward.runtimes.pmml.fixes import (
    NEEDS_CODES,
    category_codes,
    normalise_forest,
    probabilities,
)
from modelward.runtimes.pmml.parsing import parse_pmml
from modelward.runtimes.pmml.reading import read_schema
from modelward.runtimes.pmml.scoring import prepare_inputs

PMML_FILE = "model.pmml"
#: Estimator class -> the sklearn_pmml_model module that defines it.
_MODULES = {
    "PMMLTreeClassifier": "tree",
    "PMMLTreeRegressor": "tree",
    "PMMLLogisticRegression": "linear_model",
    "PMMLLinearRegression": "linear_model",
    "PMMLRidgeClassifier": "linear_model",
    "PMMLRidge": "linear_model",
    "PMMLGaussianNB": "naive_bayes",
    "PMMLSVC": "svm",
    "PMMLSVR": "svm",
    "PMMLMLPClassifier": "neural_network",
    "PMMLMLPRegressor": "neural_network",
    "PMMLKNeighborsClassifier": "neighbors",
    "PMMLKNeighborsRegressor": "neighbors",
    "PMMLForestClassifier": "ensemble",
    "PMMLForestRegressor": "ensemble",
    "PMMLGradientBoostingClassifier": "ensemble",
    "PMMLGradientBoostingRegressor": "ensemble",
}


class PmmlRuntime(Runtime):
    params = {"proba": "also return probability_<class> columns (classifiers only)"}

    def load(self) -> None:
        from modelward.runtimes.pmml.flavor import PmmlFlavor  # flavor.py imports this module

        data = (self.path / self.config["file"]).read_bytes()
        self.schema_ = read_schema(parse_pmml(data, PMML_FILE), PMML_FILE)
        estimator = self.schema_.estimator
        module = PmmlFlavor().require(f"sklearn_pmml_model.{_MODULES[estimator]}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = getattr(module, estimator)(pmml=io.BytesIO(data))
            except Exception as exc:  # sklearn-pmml-model raises bare Exceptions
                raise InvalidModelError(
                    f"sklearn-pmml-model cannot read this {self.schema_.model_type}: {exc}"
                ) from exc
        ignored = [str(w.message) for w in caught if "ignored" in str(w.message)]
        if ignored:  # scoring without those segments would silently change predictions
            raise InvalidModelError(
                f"sklearn-pmml-model would drop part of the model: {ignored[0]}"
            )
        normalise_forest(model)
        self.model_ = model

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        want_proba = bool(params.get("proba"))
        classes = getattr(self.model_, "classes_", None)
        if want_proba and (classes is None or not hasattr(self.model_, "predict_proba")):
            raise InvalidInputError(
                f"this PMML {self.schema_.function} model gives no class probabilities",
                hint="drop the 'proba' parameter",
            )
        x = prepare_inputs(frame, self.schema_)
        if self.schema_.estimator in NEEDS_CODES:
            x = category_codes(x, self.model_)
        if not len(x):
            names = (
                [f"probability_{c}" for c in classes] if want_proba and classes is not None else []
            )
            return pd.DataFrame(columns=["prediction", *names])
        try:
            with warnings.catch_warnings():
                # sklearn-pmml-model's estimators were "fitted" without feature names
                warnings.filterwarnings("ignore", message=".*feature names", category=UserWarning)
                prediction = np.asarray(self.model_.predict(x.copy()))
                proba = probabilities(self.model_, x) if want_proba else None
        except Exception as exc:
            raise InvalidInputError(f"the PMML model could not score the input: {exc}") from exc
        if len(prediction) != len(x):
            raise InvalidModelError(
                f"sklearn-pmml-model returned {len(prediction)} predictions for {len(x)} rows; "
                f"it does not read this {self.schema_.model_type} correctly"
            )
        out = output_frame(prediction)
        if proba is not None:
            out = pd.concat([out, class_probabilities(proba, classes)], axis=1)
        return out

    def unload(self) -> None:
        self.model_ = None

    def metadata(self) -> dict[str, Any]:
        keys = ("model_type", "function", "estimator", "target", "pmml_version", "application")
        meta: dict[str, Any] = {key: self.config.get(key) for key in keys}
        meta["inputs"] = [f.name for f in self.schema_.fields if f.active]
        classes = getattr(self.model_, "classes_", None)
        if classes is not None:
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        return meta

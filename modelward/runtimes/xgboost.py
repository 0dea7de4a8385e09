"""XGBoost boosters and scikit-learn wrappers, in XGBoost's own UBJSON/JSON format."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidModelError
from modelward.runtimes.base import (
    Flavor,
    Runtime,
    SavedModel,
    SaveOptions,
    class_probabilities,
    matrix_outputs,
    numeric_matrix,
    output_frame,
)

_WRAPPERS = {"classifier": "XGBClassifier", "regressor": "XGBRegressor", "ranker": "XGBRanker"}


class XGBoostFlavor(Flavor):
    name = "xgboost"
    extra = "xgboost"
    packages = ("xgboost-cpu", "xgboost", "numpy", "pandas")
    priority = 20

    def detect(self, obj: Any) -> bool:
        xgb = sys.modules.get("xgboost")
        return xgb is not None and isinstance(obj, xgb.XGBModel | xgb.Booster)

    def sniff(self, path: Path) -> bool:
        if not path.is_file() or path.suffix not in {".ubj", ".json"}:
            return False
        with path.open("rb") as fh:
            head = fh.read(32)
        return b"learner" in head

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        xgb = self.require("xgboost")
        file = dest / "model.ubj"
        obj.save_model(file)
        kind = type(obj).__name__ if isinstance(obj, xgb.XGBModel) else "Booster"
        return SavedModel({"file": file.name, "class": kind})

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        xgb = self.require("xgboost")
        booster = xgb.Booster()
        try:
            booster.load_model(path)
        except Exception as exc:
            raise InvalidModelError(f"{path.name} is not an XGBoost model: {exc}") from exc
        kind = "Booster"
        sk_attr = booster.attr("scikit_learn")
        if sk_attr:  # saved from a scikit-learn wrapper: restore the same wrapper
            kind = _WRAPPERS.get(json.loads(sk_attr).get("_estimator_type", ""), "Booster")
        booster.save_model(dest / "model.ubj")  # one format on disk, whatever came in
        return SavedModel({"file": "model.ubj", "class": kind})

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return XGBoostRuntime(path, config)


class XGBoostRuntime(Runtime):
    params = {"proba": "also return probability_<class> columns (classifiers only)"}

    def load(self) -> None:
        import xgboost as xgb

        kind = self.config["class"]
        self.model_: Any = xgb.Booster() if kind == "Booster" else getattr(xgb, kind)()
        self.model_.load_model(self.path / self.config["file"])
        self._xgb = xgb

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        if isinstance(self.model_, self._xgb.Booster):
            return output_frame(self.model_.predict(self._xgb.DMatrix(frame)))
        out = output_frame(self.model_.predict(frame))
        if params.get("proba"):
            if not hasattr(self.model_, "predict_proba"):
                raise InvalidModelError("this XGBoost model has no probabilities; drop 'proba'")
            proba = class_probabilities(self.model_.predict_proba(frame), self.model_.classes_)
            out = pd.concat([out, proba], axis=1)
        return out

    def predict_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        x = numeric_matrix(columns)
        if x is None or isinstance(self.model_, self._xgb.Booster):
            return super().predict_columns(columns, params)
        self.check_params(params)
        proba = self.model_.predict_proba(x) if params.get("proba") else None
        return matrix_outputs(self.model_.predict(x), proba, getattr(self.model_, "classes_", ()))

    def unload(self) -> None:
        self.model_ = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"class": self.config["class"]}
        classes = getattr(self.model_, "classes_", None)
        if classes is not None:
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        return meta

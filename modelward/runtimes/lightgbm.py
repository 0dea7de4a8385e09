"""LightGBM boosters and scikit-learn wrappers, in LightGBM's own text format."""

from __future__ import annotations

import shutil
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
    matrix_outputs,
    numeric_matrix,
)

MODEL_FILE = "model.txt"


def _plain(values: Any) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in values]


class LightGBMFlavor(Flavor):
    name = "lightgbm"
    extra = "lightgbm"
    packages = ("lightgbm", "numpy", "pandas")
    priority = 20

    def detect(self, obj: Any) -> bool:
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(obj, lgb.LGBMModel | lgb.Booster)

    def sniff(self, path: Path) -> bool:
        if not path.is_file() or path.suffix not in {".txt", ".lgb", ".lgbm"}:
            return False
        with path.open("rb") as fh:
            return fh.read(16).startswith(b"tree\nversion=")

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        lgb = self.require("lightgbm")
        config: dict[str, Any] = {"file": MODEL_FILE, "kind": "booster"}
        booster = obj
        if isinstance(obj, lgb.LGBMModel):
            booster = obj.booster_
            if isinstance(obj, lgb.LGBMClassifier):
                config.update(kind="classifier", classes=_plain(obj.classes_))
            elif isinstance(obj, lgb.LGBMRanker):
                config["kind"] = "ranker"
            else:
                config["kind"] = "regressor"
        booster.save_model(dest / MODEL_FILE)
        return SavedModel(config)

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        lgb = self.require("lightgbm")
        try:
            lgb.Booster(model_file=str(path))
        except Exception as exc:
            raise InvalidModelError(f"{path.name} is not a LightGBM model: {exc}") from exc
        shutil.copyfile(path, dest / MODEL_FILE)
        return SavedModel({"file": MODEL_FILE, "kind": "booster"})

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return LightGBMRuntime(path, config)


class LightGBMRuntime(Runtime):
    params = {"proba": "also return probability_<class> columns (classifiers only)"}

    def load(self) -> None:
        import lightgbm as lgb

        self.booster_: Any = lgb.Booster(model_file=str(self.path / self.config["file"]))

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        return pd.DataFrame(self._score(frame, params))

    def predict_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        x = numeric_matrix(columns)
        if x is None:
            return super().predict_columns(columns, params)
        self.check_params(params)
        return self._score(x, params)

    def _score(self, data: Any, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        raw = self.booster_.predict(data)
        if self.config["kind"] != "classifier":
            if params.get("proba"):
                raise InvalidModelError("only classifiers give probabilities; drop 'proba'")
            return matrix_outputs(raw, None, ())
        proba = np.vstack((1.0 - raw, raw)).T if raw.ndim == 1 else raw
        classes = np.asarray(self.config["classes"])
        predictions = classes[np.argmax(proba, axis=1)]  # as LGBMClassifier.predict does
        return matrix_outputs(predictions, proba if params.get("proba") else None, classes)

    def unload(self) -> None:
        self.booster_ = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"kind": self.config["kind"]}
        if "classes" in self.config:
            meta["classes"] = self.config["classes"]
        if self.booster_ is not None:
            meta["features"] = self.booster_.feature_name()
        return meta

"""scikit-learn estimators and pipelines, saved with skops (pickle only when trusted)."""

from __future__ import annotations

import shutil
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError, UntrustedContentError
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
from modelward.runtimes.compile import CompiledOnnx, compile_sklearn, compiled_columns
from modelward.runtimes.pickles import TRUST_HINT, load_pickle

SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.joblib"
FEATURE_NAMES_WARNING = "X does not have valid feature names"
#: Set by the model worker process after it silences the feature-names warning process-wide:
#: the fast path hands sklearn a matrix (in the fitted column order) and the warning is noise.
QUIET_FEATURE_NAMES = False


def load_skops_file(path: Path, *, trust: bool) -> tuple[Any, list[str]]:
    """The object in a skops file and the types it needed trusted; refused without ``trust``
    when skops does not vouch for every type in it."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise InvalidModelError(f"{path.name} is not a readable skops file: {exc}") from exc
    if untrusted and not trust:
        raise UntrustedContentError(
            f"{path.name} contains types that skops does not trust by default: "
            f"{', '.join(untrusted)}; loading them can run code",
            hint=TRUST_HINT,
        )
    try:
        return sio.load(path, trusted=untrusted), untrusted
    except Exception as exc:
        raise InvalidModelError(f"{path.name} could not be loaded by skops: {exc}") from exc


def is_sklearn_estimator(obj: Any) -> bool:
    """True for a fitted-or-not scikit-learn estimator that can predict."""
    base = sys.modules.get("sklearn.base")  # no sklearn imported means obj cannot be one
    return base is not None and isinstance(obj, base.BaseEstimator) and hasattr(obj, "predict")


class SklearnFlavor(Flavor):
    name = "sklearn"
    packages = ("scikit-learn", "skops", "numpy", "pandas")
    priority = 80

    def detect(self, obj: Any) -> bool:
        return is_sklearn_estimator(obj)

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix == ".skops"

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        sio = self.require("skops.io")
        target = dest / SKOPS_FILE
        try:
            sio.dump(obj, target)
            # The caller handed us this object in memory: the types it is made of are theirs.
            trusted = sio.get_untrusted_types(file=target)
        except Exception as exc:  # skops refuses some exotic objects
            target.unlink(missing_ok=True)
            if not options.trust_pickle:
                raise InvalidModelError(
                    f"skops cannot save this {type(obj).__name__}: {exc}",
                    hint="pass trust_pickle=True (CLI: --trust-pickle) to store it as a pickle",
                ) from exc
            joblib = self.require("joblib")
            joblib.dump(obj, dest / PICKLE_FILE)
            return SavedModel(self._config(obj, "pickle", PICKLE_FILE, []))
        return self._compiled(obj, dest, options, self._config(obj, "skops", SKOPS_FILE, trusted))

    @staticmethod
    def _compiled(obj: Any, dest: Path, options: SaveOptions, config: dict[str, Any]) -> SavedModel:
        """Add an ONNX compilation of the model when the caller asked for one."""
        if options.extra.get("compile") == "onnx":
            config["compiled"] = compile_sklearn(obj, options.sample, dest)
        return SavedModel(config)

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        obj, untrusted = load_skops_file(path, trust=options.trust_pickle)
        if not is_sklearn_estimator(obj):
            raise InvalidModelError(f"{path.name} holds a {type(obj).__name__}, not an estimator")
        shutil.copyfile(path, dest / SKOPS_FILE)
        return self._compiled(obj, dest, options, self._config(obj, "skops", SKOPS_FILE, untrusted))

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return SklearnRuntime(path, config)

    @staticmethod
    def _config(obj: Any, fmt: str, file: str, trusted: list[str]) -> dict[str, Any]:
        cls = type(obj)
        return {
            "format": fmt,
            "file": file,
            "trusted_types": sorted(trusted),
            "estimator": f"{cls.__module__}.{cls.__qualname__}",
        }


class SklearnRuntime(Runtime):
    params = {"proba": "also return probability_<class> columns (classifiers only)"}

    def load(self) -> None:
        file = self.path / self.config["file"]
        if self.config["format"] == "pickle":
            # Trust was given explicitly at registration and is bound to this artifact's digest.
            self.model_ = load_pickle(file, trusted=True)
        else:
            import skops.io as sio

            self.model_ = sio.load(file, trusted=list(self.config.get("trusted_types", [])))
        self._by_name = hasattr(self.model_, "feature_names_in_")
        names = getattr(self.model_, "feature_names_in_", None)
        self._order = [str(n) for n in names] if names is not None else None
        compiled = self.config.get("compiled") or {}
        self._compiled = (
            CompiledOnnx(self.path / compiled["file"], getattr(self.model_, "classes_", None))
            if compiled.get("onnx")
            else None
        )
        self._matrix_ok = not _selects_columns_by_name(self.model_)

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        if self._compiled is not None:
            matrix = self._matrix({str(c): frame[c].to_numpy() for c in frame.columns})
            if matrix is not None:
                return pd.DataFrame(compiled_columns(self._compiled, matrix, params))
        if self._order is not None and list(frame.columns) != self._order:
            if missing := [n for n in self._order if n not in frame.columns]:
                raise InvalidInputError(f"the model needs columns {missing}")
            frame = frame[self._order]  # sklearn checks the fitted order, by name
        x = frame if self._by_name else frame.to_numpy()
        out = output_frame(self.model_.predict(x))
        if params.get("proba"):
            if not hasattr(self.model_, "predict_proba"):
                raise InvalidModelError(
                    f"{type(self.model_).__name__} has no predict_proba; drop the 'proba' parameter"
                )
            proba = class_probabilities(self.model_.predict_proba(x), self.model_.classes_)
            out = pd.concat([out, proba], axis=1)
        return out

    def predict_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        x = self._matrix(columns) if self._matrix_ok else None
        if x is None:
            return super().predict_columns(columns, params)
        self.check_params(params)
        if self._compiled is not None:
            return compiled_columns(self._compiled, x, params)
        try:
            if QUIET_FEATURE_NAMES:
                predictions = self.model_.predict(x)
                proba = self.model_.predict_proba(x) if params.get("proba") else None
            else:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=FEATURE_NAMES_WARNING)
                    predictions = self.model_.predict(x)
                    proba = self.model_.predict_proba(x) if params.get("proba") else None
        except Exception:
            # Some estimators want a frame after all (custom transformers on named columns):
            # score through pandas from now on; the answers are the same, only slower.
            self._matrix_ok = False
            return super().predict_columns(columns, params)
        return matrix_outputs(predictions, proba, getattr(self.model_, "classes_", ()))

    def _matrix(self, columns: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """The columns as a matrix in the order the model was fitted on (names, not positions)."""
        if self._order is None:
            return numeric_matrix(columns)
        try:
            return numeric_matrix({name: columns[name] for name in self._order})
        except KeyError:
            return None

    def unload(self) -> None:
        self.model_ = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "estimator": self.config.get("estimator"),
            "format": self.config["format"],
        }
        classes = getattr(self.model_, "classes_", None)
        if classes is not None:
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        return meta


def _selects_columns_by_name(estimator: Any) -> bool:
    """True when a ColumnTransformer somewhere in the estimator picks columns by name."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(estimator, ColumnTransformer):
        return True
    if isinstance(estimator, Pipeline):
        return any(_selects_columns_by_name(step) for _, step in estimator.steps)
    if isinstance(estimator, FeatureUnion):
        return any(_selects_columns_by_name(t) for _, t in estimator.transformer_list)
    return False

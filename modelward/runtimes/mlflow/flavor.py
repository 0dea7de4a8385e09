"""The MLflow flavor: imports an MLflow model folder through one of modelward's own flavors."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.errors import InvalidModelError, ModelwardError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.mlflow.importers import IMPORTERS
from modelward.runtimes.mlflow.inner import SUPPORTED_FLAVORS, inner_flavor
from modelward.runtimes.mlflow.mlmodel import MLMODEL, convert_signature, read_mlmodel

INNER_DIR = "inner"
#: Top-level MLmodel fields kept as provenance (model_id is MLflow 3's LoggedModel id).
_PROVENANCE = (
    "run_id",
    "model_id",
    "model_uuid",
    "utc_time_created",
    "mlflow_version",
    "artifact_path",
)


class MlflowFlavor(Flavor):
    name = "mlflow"
    packages = ()
    priority = 5

    def sniff(self, path: Path) -> bool:
        return path.is_dir() and (path / MLMODEL).is_file()

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        folder = path.parent if path.name == MLMODEL and path.is_file() else path
        mlmodel = read_mlmodel(folder)
        name, conf = _choose_flavor(mlmodel["flavors"])
        signature = convert_signature(mlmodel.get("signature"))  # fail on it before slow work
        inner_dir = dest / INNER_DIR
        inner_dir.mkdir()
        try:
            saved = IMPORTERS[name](folder, conf, inner_dir, options)
        except BaseException:
            shutil.rmtree(inner_dir, ignore_errors=True)
            raise
        config = {
            "inner_flavor": name,
            "inner_config": saved.config,
            "mlflow": _provenance(mlmodel),
        }
        return SavedModel(config, signature or saved.signature)

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return MlflowRuntime(path, config)


class MlflowRuntime(Runtime):
    """An imported MLflow model: the inner flavor's runtime on ``inner/``, plus MLflow provenance."""

    def load(self) -> None:
        flavor = inner_flavor(self.config["inner_flavor"])
        self.inner_: Runtime | None = flavor.runtime(
            self.path / INNER_DIR, self.config["inner_config"]
        )
        self.inner_.load()

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        return self._loaded().predict(frame, params)

    def check_params(self, params: Mapping[str, Any]) -> None:
        self._loaded().check_params(params)

    def unload(self) -> None:
        inner = getattr(self, "inner_", None)
        if inner is not None:
            inner.unload()
        self.inner_ = None

    def metadata(self) -> dict[str, Any]:
        meta = dict(self._loaded().metadata())
        meta["inner_flavor"] = self.config["inner_flavor"]
        meta["mlflow"] = dict(self.config.get("mlflow", {}))
        return meta

    def _loaded(self) -> Runtime:
        inner = getattr(self, "inner_", None)
        if inner is None:
            raise ModelwardError("this MLflow model is not loaded; call load() first")
        return inner


def _choose_flavor(flavors: Mapping[Any, Any]) -> tuple[str, Mapping[str, Any]]:
    for name in SUPPORTED_FLAVORS:
        if name in flavors:
            conf = flavors[name]
            if not isinstance(conf, Mapping):
                raise InvalidModelError(f"{MLMODEL} field 'flavors.{name}' must be a mapping")
            return name, conf
    raise InvalidModelError(
        f"this MLflow model has the flavor(s) {', '.join(map(str, flavors))}; modelward imports "
        f"MLflow models of the flavors {', '.join(SUPPORTED_FLAVORS)}",
        hint="convert the model to ONNX, or register its code with the python flavor",
    )


def _provenance(mlmodel: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _PROVENANCE:
        value = mlmodel.get(key)
        if value is not None:  # YAML may parse an unquoted time into a datetime: keep it JSON-ready
            out[key] = value if isinstance(value, str | int | float) else str(value)
    return out

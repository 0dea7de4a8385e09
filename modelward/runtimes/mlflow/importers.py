"""Importing the model of each supported MLflow flavor into the modelward flavor of that name."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from modelward.errors import InvalidModelError
from modelward.paths import safe_join
from modelward.runtimes.base import SavedModel, SaveOptions
from modelward.runtimes.lightgbm import LightGBMFlavor
from modelward.runtimes.mlflow.inner import load_skops, model_file, unpickle
from modelward.runtimes.mlflow.mlmodel import MLMODEL
from modelward.runtimes.onnx import OnnxFlavor
from modelward.runtimes.sklearn import SklearnFlavor, is_sklearn_estimator
from modelward.runtimes.xgboost import XGBoostFlavor

# model_class values MLflow writes for XGBoost; never imported by name from the file.
_XGB_CLASSES = {"xgboost.core.Booster": "Booster"} | {
    f"xgboost.sklearn.{name}": name
    for name in ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")
}
_LGB_BOOSTER = "lightgbm.basic.Booster"

_Conf = Mapping[str, Any]
_Importer = Callable[[Path, _Conf, Path, SaveOptions], SavedModel]


def _import_sklearn(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = model_file(folder, "sklearn", conf, "pickled_model")
    flavor = SklearnFlavor()
    fmt = conf.get("serialization_format", "pickle")  # MLflow's default when the key is absent
    if fmt == "skops":
        return flavor.import_path(file, dest, options)
    model = unpickle(file, "sklearn", fmt, options)
    if not is_sklearn_estimator(model):
        raise InvalidModelError(f"{file.name} holds a {type(model).__name__}, not an estimator")
    return flavor.save(model, dest, options)


def _import_xgboost(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = model_file(folder, "xgboost", conf, "data")
    model_class = conf.get("model_class", "xgboost.core.Booster")  # absent before MLflow 1.22
    kind = _XGB_CLASSES.get(model_class)
    if kind is None:
        raise InvalidModelError(
            f"{MLMODEL} field 'flavors.xgboost.model_class' is {model_class!r}, "
            "which modelward does not load",
            hint=f"supported: {', '.join(_XGB_CLASSES)}",
        )
    flavor = XGBoostFlavor()
    xgb = flavor.require("xgboost")
    model = xgb.Booster() if kind == "Booster" else getattr(xgb, kind)()
    try:
        # From bytes, XGBoost tells UBJSON from JSON by content whatever the file is named
        # (MLflow's default name is model.xgb).
        model.load_model(bytearray(file.read_bytes()))
    except Exception as exc:
        raise InvalidModelError(f"{file.name} is not an XGBoost model: {exc}") from exc
    return flavor.save(model, dest, options)


def _import_lightgbm(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = model_file(folder, "lightgbm", conf, "data")
    flavor = LightGBMFlavor()
    if conf.get("model_class", _LGB_BOOSTER) == _LGB_BOOSTER:  # a Booster, in LightGBM's text
        return flavor.import_path(file, dest, options)
    # The scikit-learn API: cloudpickle (skops in recent MLflow)
    fmt = conf.get("serialization_format", "cloudpickle")
    if fmt == "skops":
        model = load_skops(file, flavor, options)
    else:
        model = unpickle(file, "lightgbm", fmt, options)
    lgb = flavor.require("lightgbm")
    if not isinstance(model, lgb.LGBMModel):
        raise InvalidModelError(f"{file.name} holds a {type(model).__name__}, not a LightGBM model")
    return flavor.save(model, dest, options)


def _import_onnx(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = model_file(folder, "onnx", conf, "data")
    flavor = OnnxFlavor()
    onnx = flavor.require("onnx")
    try:
        model = onnx.load(str(file), load_external_data=False)
    except Exception as exc:
        raise InvalidModelError(f"{file.name} is not an ONNX model: {exc}") from exc
    # MLflow saves with save_as_external_data=True: large tensors live in files beside the graph.
    for tensor in _tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if not safe_join(file.parent, location).is_file():
                raise InvalidModelError(
                    f"{file.name} keeps tensor {tensor.name!r} in {location!r}, which is missing"
                )
    try:
        onnx.load_external_data_for_model(model, str(file.parent))
    except Exception as exc:
        raise InvalidModelError(f"the external data of {file.name} cannot be read: {exc}") from exc
    return flavor.save(model, dest, options)  # one self-contained model.onnx


def _tensors(model: Any) -> Iterator[Any]:
    """Every tensor of an ONNX model: initializers and attributes, subgraphs and functions."""

    def nodes(nodes: Any) -> Iterator[Any]:
        for node in nodes:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
                if attr.HasField("g"):
                    yield from graph(attr.g)
                for sub in attr.graphs:
                    yield from graph(sub)

    def graph(g: Any) -> Iterator[Any]:
        yield from g.initializer
        yield from nodes(g.node)

    yield from graph(model.graph)
    for function in model.functions:
        yield from nodes(function.node)


#: MLflow flavor name -> the function that imports a model of that flavor.
IMPORTERS: dict[str, _Importer] = {
    "onnx": _import_onnx,
    "xgboost": _import_xgboost,
    "lightgbm": _import_lightgbm,
    "sklearn": _import_sklearn,
}

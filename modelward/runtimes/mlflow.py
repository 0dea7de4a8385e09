"""MLflow model folders (an ``MLmodel`` file beside the model files), imported without mlflow.

``MLmodel`` names one or more flavors; the first of onnx, xgboost, lightgbm and sklearn it
declares is handed to modelward's own flavor of that name, which stores the model under
``inner/``. Pickled models are unpickled only when the caller trusts them, and are stored again
pickle-free (skops, XGBoost UBJSON, LightGBM text). Every file name read from ``MLmodel`` goes
through :func:`~modelward.paths.safe_join`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from modelward.errors import (
    InvalidModelError,
    InvalidSignatureError,
    ModelwardError,
    UntrustedContentError,
)
from modelward.paths import safe_join
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.lightgbm import LightGBMFlavor
from modelward.runtimes.onnx import OnnxFlavor
from modelward.runtimes.pickles import TRUST_HINT, load_pickle
from modelward.runtimes.sklearn import SklearnFlavor, is_sklearn_estimator
from modelward.runtimes.xgboost import XGBoostFlavor
from modelward.signatures import TYPES, ColumnSpec, Signature

MLMODEL = "MLmodel"
INNER_DIR = "inner"
#: Inner flavors in order of preference: native formats before pickles.
SUPPORTED_FLAVORS = ("onnx", "xgboost", "lightgbm", "sklearn")
_INNER: dict[str, type[Flavor]] = {
    "onnx": OnnxFlavor,
    "xgboost": XGBoostFlavor,
    "lightgbm": LightGBMFlavor,
    "sklearn": SklearnFlavor,
}
#: Top-level MLmodel fields kept as provenance (model_id is MLflow 3's LoggedModel id).
_PROVENANCE = (
    "run_id",
    "model_id",
    "model_uuid",
    "utc_time_created",
    "mlflow_version",
    "artifact_path",
)
_PICKLE_FORMATS = ("pickle", "cloudpickle")
# model_class values MLflow writes for XGBoost; never imported by name from the file.
_XGB_CLASSES = {"xgboost.core.Booster": "Booster"} | {
    f"xgboost.sklearn.{name}": name
    for name in ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")
}
_LGB_BOOSTER = "lightgbm.basic.Booster"

_Conf = Mapping[str, Any]
_Importer = Callable[[Path, _Conf, Path, SaveOptions], SavedModel]


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
            saved = _IMPORTERS[name](folder, conf, inner_dir, options)
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


def inner_flavor(name: str) -> Flavor:
    """The modelward flavor that stores an imported MLflow model of flavor ``name``."""
    try:
        return _INNER[name]()
    except KeyError:
        raise InvalidModelError(
            f"unknown inner flavor {name!r} for an MLflow model",
            hint=f"supported: {', '.join(SUPPORTED_FLAVORS)}",
        ) from None


def read_mlmodel(folder: Path) -> dict[str, Any]:
    """The parsed ``MLmodel`` of an MLflow model folder, checked to be a mapping with flavors."""
    file = safe_join(folder, MLMODEL)
    if not file.is_file():
        raise InvalidModelError(
            f"{folder} has no {MLMODEL} file", hint="pass the folder MLflow wrote the model into"
        )
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidModelError(f"{MLMODEL} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidModelError(
            f"{MLMODEL} must be a YAML mapping of fields, got {type(data).__name__}"
        )
    flavors = data.get("flavors")
    if not isinstance(flavors, dict) or not flavors:
        raise InvalidModelError(f"{MLMODEL} has no 'flavors' mapping; it is not an MLflow model")
    return data


def convert_signature(raw: Any) -> Signature | None:
    """MLmodel's ``signature`` as a modelward signature; None when absent or tensor-based."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidModelError(f"{MLMODEL} field 'signature' must be a mapping, got {raw!r}")
    inputs = _columns(raw.get("inputs"), "signature.inputs", outputs=False)
    if not inputs:  # tensors or unnamed columns: the registry infers a signature from a sample
        return None
    outputs = _columns(raw.get("outputs"), "signature.outputs", outputs=True) or ()
    try:
        return Signature(inputs, outputs)
    except InvalidSignatureError as exc:
        raise InvalidModelError(f"{MLMODEL} field 'signature': {exc.message}") from exc


def _columns(value: Any, field: str, *, outputs: bool) -> tuple[ColumnSpec, ...] | None:
    specs = _schema_entries(value, field)
    if not specs or any(spec.get("type") == "tensor" for spec in specs):
        return None
    names: list[Any] = [spec.get("name") for spec in specs]
    if any(name is None for name in names):
        if not outputs:
            return None
        # The names modelward's runtimes give unnamed outputs (see base.output_frame).
        names = (
            ["prediction"] if len(specs) == 1 else [f"prediction_{i}" for i in range(len(specs))]
        )
    return tuple(
        _column(spec, name, f"{field}[{i}]")
        for i, (spec, name) in enumerate(zip(specs, names, strict=True))
    )


def _schema_entries(value: Any, field: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):  # MLflow stores each schema as a JSON string inside the YAML
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidModelError(f"{MLMODEL} field '{field}' is not valid JSON: {exc}") from exc
    if not isinstance(value, list) or not all(
        isinstance(spec, Mapping) and "type" in spec for spec in value
    ):
        raise InvalidModelError(
            f"{MLMODEL} field '{field}' must be a list of column specs with a 'type' each"
        )
    return value


def _column(spec: Mapping[str, Any], name: Any, field: str) -> ColumnSpec:
    kind = spec["type"]
    if not isinstance(name, str) or not name:
        raise InvalidModelError(f"{MLMODEL} field '{field}' has no usable column name: {name!r}")
    if kind not in TYPES:
        raise InvalidModelError(
            f"{MLMODEL} field '{field}' (column {name!r}) has type {kind!r}, "
            "which modelward does not know",
            hint=f"modelward column types: {', '.join(TYPES)}; "
            "log the model with such a signature, or with none",
        )
    required = spec.get("required", True)  # MLflow's default when the key is absent
    if not isinstance(required, bool):
        raise InvalidModelError(f"{MLMODEL} field '{field}': 'required' must be true or false")
    return ColumnSpec(name, kind, nullable=not required)


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


def _model_file(folder: Path, flavor: str, conf: Mapping[str, Any], key: str) -> Path:
    value = conf.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidModelError(
            f"{MLMODEL} field 'flavors.{flavor}.{key}' must name the model file, got {value!r}"
        )
    file = safe_join(folder, value)
    if not file.is_file():
        raise InvalidModelError(
            f"{MLMODEL} field 'flavors.{flavor}.{key}' names {value!r}, "
            f"which is not a file in {folder}",
            hint="copy the whole MLflow model folder, model files included",
        )
    return file


def _unpickle(file: Path, flavor: str, fmt: Any, options: SaveOptions) -> Any:
    if fmt not in _PICKLE_FORMATS:
        raise InvalidModelError(
            f"{MLMODEL} field 'flavors.{flavor}.serialization_format' is {fmt!r}; "
            f"modelward reads {', '.join(('skops', *_PICKLE_FORMATS))}"
        )
    if not options.trust_pickle:
        raise UntrustedContentError(
            f"the MLflow {flavor} model {file.name} is a {fmt} file; "
            "loading it can run arbitrary code",
            hint=TRUST_HINT,
        )
    return load_pickle(file, trusted=True)


def _load_skops(file: Path, flavor: Flavor, options: SaveOptions) -> Any:
    # MLmodel's own skops_trusted_types are not taken on its word: we ask the file itself.
    sio = flavor.require("skops.io")
    try:
        untrusted = sio.get_untrusted_types(file=file)
    except Exception as exc:
        raise InvalidModelError(f"{file.name} is not a readable skops file: {exc}") from exc
    if untrusted and not options.trust_pickle:
        raise UntrustedContentError(
            f"{file.name} contains types that skops does not trust by default: "
            f"{', '.join(untrusted)}; loading them can run code",
            hint=TRUST_HINT,
        )
    try:
        return sio.load(file, trusted=untrusted)
    except Exception as exc:
        raise InvalidModelError(f"{file.name} could not be loaded by skops: {exc}") from exc


def _import_sklearn(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = _model_file(folder, "sklearn", conf, "pickled_model")
    flavor = SklearnFlavor()
    fmt = conf.get("serialization_format", "pickle")  # MLflow's default when the key is absent
    if fmt == "skops":
        return flavor.import_path(file, dest, options)
    model = _unpickle(file, "sklearn", fmt, options)
    if not is_sklearn_estimator(model):
        raise InvalidModelError(f"{file.name} holds a {type(model).__name__}, not an estimator")
    return flavor.save(model, dest, options)


def _import_xgboost(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = _model_file(folder, "xgboost", conf, "data")
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
    file = _model_file(folder, "lightgbm", conf, "data")
    flavor = LightGBMFlavor()
    if conf.get("model_class", _LGB_BOOSTER) == _LGB_BOOSTER:  # a Booster, in LightGBM's text
        return flavor.import_path(file, dest, options)
    # The scikit-learn API: cloudpickle (skops in recent MLflow)
    fmt = conf.get("serialization_format", "cloudpickle")
    if fmt == "skops":
        model = _load_skops(file, flavor, options)
    else:
        model = _unpickle(file, "lightgbm", fmt, options)
    lgb = flavor.require("lightgbm")
    if not isinstance(model, lgb.LGBMModel):
        raise InvalidModelError(f"{file.name} holds a {type(model).__name__}, not a LightGBM model")
    return flavor.save(model, dest, options)


def _import_onnx(folder: Path, conf: _Conf, dest: Path, options: SaveOptions) -> SavedModel:
    file = _model_file(folder, "onnx", conf, "data")
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


_IMPORTERS: dict[str, _Importer] = {
    "onnx": _import_onnx,
    "xgboost": _import_xgboost,
    "lightgbm": _import_lightgbm,
    "sklearn": _import_sklearn,
}

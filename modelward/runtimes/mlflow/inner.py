"""The modelward flavors MLflow models are handed to, and reading their files safely."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelward.errors import InvalidModelError, UntrustedContentError
from modelward.paths import safe_join
from modelward.runtimes.base import Flavor, SaveOptions
from modelward.runtimes.lightgbm import LightGBMFlavor
from modelward.runtimes.mlflow.mlmodel import MLMODEL
from modelward.runtimes.onnx import OnnxFlavor
from modelward.runtimes.pickles import TRUST_HINT, load_pickle
from modelward.runtimes.sklearn import SklearnFlavor, load_skops_file
from modelward.runtimes.xgboost import XGBoostFlavor

#: Inner flavors in order of preference: native formats before pickles.
SUPPORTED_FLAVORS = ("onnx", "xgboost", "lightgbm", "sklearn")
_INNER: dict[str, type[Flavor]] = {
    "onnx": OnnxFlavor,
    "xgboost": XGBoostFlavor,
    "lightgbm": LightGBMFlavor,
    "sklearn": SklearnFlavor,
}
_PICKLE_FORMATS = ("pickle", "cloudpickle")


def inner_flavor(name: str) -> Flavor:
    """The modelward flavor that stores an imported MLflow model of flavor ``name``."""
    try:
        return _INNER[name]()
    except KeyError:
        raise InvalidModelError(
            f"unknown inner flavor {name!r} for an MLflow model",
            hint=f"supported: {', '.join(SUPPORTED_FLAVORS)}",
        ) from None


def model_file(folder: Path, flavor: str, conf: Mapping[str, Any], key: str) -> Path:
    """The model file that ``flavors.<flavor>.<key>`` names, checked to be inside ``folder``."""
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


def unpickle(file: Path, flavor: str, fmt: Any, options: SaveOptions) -> Any:
    """The object in a pickle or cloudpickle ``file``, when the caller trusts pickles."""
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


def load_skops(file: Path, flavor: Flavor, options: SaveOptions) -> Any:
    """The object in a skops ``file``; types skops does not trust need the caller's trust."""
    # MLmodel's own skops_trusted_types are not taken on its word: we ask the file itself.
    flavor.require("skops.io")
    return load_skops_file(file, trust=options.trust_pickle)[0]

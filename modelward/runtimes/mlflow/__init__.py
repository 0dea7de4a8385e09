"""MLflow model folders (an ``MLmodel`` file beside the model files), imported without mlflow.

``MLmodel`` names one or more flavors; the first of onnx, xgboost, lightgbm and sklearn it
declares is handed to modelward's own flavor of that name, which stores the model under
``inner/``. Pickled models are unpickled only when the caller trusts them, and are stored again
pickle-free (skops, XGBoost UBJSON, LightGBM text). Every file name read from ``MLmodel`` goes
through :func:`~modelward.paths.safe_join`.
"""

from modelward.runtimes.mlflow.flavor import INNER_DIR, MlflowFlavor, MlflowRuntime
from modelward.runtimes.mlflow.inner import SUPPORTED_FLAVORS, inner_flavor
from modelward.runtimes.mlflow.mlmodel import MLMODEL, convert_signature, read_mlmodel

__all__ = [
    "INNER_DIR",
    "MLMODEL",
    "SUPPORTED_FLAVORS",
    "MlflowFlavor",
    "MlflowRuntime",
    "convert_signature",
    "inner_flavor",
    "read_mlmodel",
]

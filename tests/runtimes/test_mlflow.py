"""MLflow model folders, written here exactly as MLflow writes them (mlflow itself is not installed).

Layouts follow mlflow/models/model.py (``Model.to_dict`` + ``yaml.safe_dump``), the ``save_model``
of mlflow/{sklearn,xgboost,lightgbm,onnx}/__init__.py, and mlflow/types/schema.py for the
signature's JSON strings.
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
import skops.io as sio
import xgboost as xgb
import yaml
from onnx import numpy_helper
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from modelward.errors import InvalidModelError, UnsafePathError, UntrustedContentError
from modelward.runtimes.base import SavedModel, SaveOptions
from modelward.runtimes.flavors import sniff_flavor
from modelward.runtimes.mlflow import MlflowFlavor, convert_signature
from modelward.signatures import ColumnSpec

RUN_ID = "8146a2ae86104f5b853351e600fc9d7b"
MODEL_UUID = "c9833d74b1ff4013a1c9eff05d39eeef"
CREATED = "2024-06-07 09:14:22.103870"
PYTHON = "3.11.9"
_MLFLOW_TYPES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer"}


# --- writing MLflow model folders -----------------------------------------------------------
def colspecs(frame: pd.DataFrame, optional: tuple[str, ...] = ()) -> str:
    """A column-based schema as ``Schema.to_json`` writes it."""
    return json.dumps(
        [
            {"type": _MLFLOW_TYPES[str(frame[c].dtype)], "name": c, "required": c not in optional}
            for c in frame.columns
        ]
    )


def write_mlflow_model(
    folder: Path,
    flavor: str,
    conf: dict[str, Any],
    model_file: str,
    *,
    signature: dict[str, Any] | None = None,
    top: dict[str, Any] | None = None,
) -> None:
    """MLmodel plus the environment files, beside a model file already written in ``folder``."""
    pyfunc: dict[str, Any] = {
        "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
        "loader_module": f"mlflow.{flavor}",
        "python_version": PYTHON,
    }
    if flavor == "sklearn":
        pyfunc.update(model_path=model_file, predict_fn="predict")
    else:
        pyfunc["data"] = model_file
    mlmodel: dict[str, Any] = {
        "artifact_path": "model",
        "flavors": {"python_function": pyfunc, flavor: {"code": None, **conf}},
        "mlflow_version": "2.14.1",
        "model_size_bytes": (folder / model_file).stat().st_size,
        "model_uuid": MODEL_UUID,
        "run_id": RUN_ID,
        "utc_time_created": CREATED,
        **(top or {}),
    }
    if signature is not None:
        mlmodel["signature"] = {"inputs": None, "outputs": None, "params": None, **signature}
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel, default_flow_style=False))
    requirements = ["mlflow==2.14.1", "cloudpickle==3.0.0", "scikit-learn==1.5.0"]
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={PYTHON}", "pip<=24.0", {"pip": requirements}],
        "name": "mlflow-env",
    }
    (folder / "conda.yaml").write_text(yaml.safe_dump(conda, default_flow_style=False))
    (folder / "requirements.txt").write_text("\n".join(requirements))
    python_env = {
        "python": PYTHON,
        "build_dependencies": ["pip==24.0", "setuptools==69.5.1", "wheel==0.43.0"],
        "dependencies": ["-r requirements.txt"],
    }
    (folder / "python_env.yaml").write_text(yaml.safe_dump(python_env, sort_keys=False))


def edit_mlmodel(folder: Path, flavor: str, **conf: Any) -> None:
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    mlmodel["flavors"][flavor].update(conf)
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel, default_flow_style=False))


def import_model(src: Path, tmp_path: Path, *, trust: bool = False) -> tuple[SavedModel, Path]:
    dest = tmp_path / "stored"
    dest.mkdir()
    return MlflowFlavor().import_path(src, dest, SaveOptions(trust_pickle=trust)), dest


def predict(dest: Path, saved: SavedModel, frame: pd.DataFrame) -> pd.DataFrame:
    runtime = MlflowFlavor().runtime(dest, saved.config)
    runtime.load()
    try:
        return runtime.predict(frame, {})
    finally:
        runtime.unload()


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="module")
def cancer_model(cancer: tuple[pd.DataFrame, pd.Series]) -> LogisticRegression:
    x, y = cancer
    return LogisticRegression(solver="liblinear").fit(x, y)


@pytest.fixture
def sklearn_dir(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series], cancer_model: LogisticRegression
) -> Path:
    """``mlflow.sklearn.save_model(model, path)`` with MLflow 2's default, cloudpickle."""
    x, _ = cancer
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    with (folder / "model.pkl").open("wb") as fh:
        pickle.dump(cancer_model, fh)
    conf = {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"}
    signature = {
        "inputs": colspecs(x, optional=("mean radius",)),
        "outputs": json.dumps([{"type": "long", "required": True}]),  # an unnamed Series
    }
    write_mlflow_model(
        folder, "sklearn", {**conf, "sklearn_version": "1.5.0"}, "model.pkl", signature=signature
    )
    return folder


# --- one test per MLflow layout -------------------------------------------------------------
def test_sklearn_cloudpickle_is_stored_as_skops(
    sklearn_dir: Path, tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, _ = cancer
    original = pickle.loads((sklearn_dir / "model.pkl").read_bytes())
    saved, dest = import_model(sklearn_dir, tmp_path, trust=True)

    assert saved.config["inner_flavor"] == "sklearn"
    assert saved.config["inner_config"]["format"] == "skops"
    assert sorted(p.name for p in (dest / "inner").iterdir()) == ["model.skops"]
    assert saved.config["mlflow"] == {
        "run_id": RUN_ID,
        "model_uuid": MODEL_UUID,
        "utc_time_created": CREATED,
        "mlflow_version": "2.14.1",
        "artifact_path": "model",
    }
    json.dumps(saved.config)  # JSON-ready
    np.testing.assert_array_equal(predict(dest, saved, x)["prediction"], original.predict(x))

    assert saved.signature is not None
    assert saved.signature.input_names == list(x.columns)
    assert saved.signature.inputs[0] == ColumnSpec("mean radius", "double", nullable=True)
    assert saved.signature.inputs[1] == ColumnSpec("mean texture", "double", nullable=False)
    assert saved.signature.outputs == (ColumnSpec("prediction", "long", nullable=False),)


def test_runtime_metadata_names_inner_flavor_and_mlflow_run(
    sklearn_dir: Path, tmp_path: Path
) -> None:
    saved, dest = import_model(sklearn_dir, tmp_path, trust=True)
    runtime = MlflowFlavor().runtime(dest, saved.config)
    runtime.load()
    meta = runtime.metadata()
    assert meta["inner_flavor"] == "sklearn"
    assert meta["mlflow"]["run_id"] == RUN_ID
    assert meta["classes"] == [0, 1]
    runtime.unload()


def test_pickled_model_needs_trust(sklearn_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UntrustedContentError) as caught:
        import_model(sklearn_dir, tmp_path)
    assert "--trust-pickle" in str(caught.value)
    assert not (tmp_path / "stored" / "inner").exists()


def test_sklearn_skops_format_of_mlflow_3(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = cancer
    model = LogisticRegression(solver="liblinear").fit(x, y)
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    sio.dump(model, folder / "model.skops")
    conf = {
        "pickled_model": "model.skops",
        "serialization_format": "skops",
        "sklearn_version": "1.9.0",
        "skops_trusted_types": None,
    }
    model_id = "m-0a24c301ab8840bc9af390a84b80d1ca"
    top = {"mlflow_version": "3.15.1", "model_id": model_id, "model_uuid": model_id, "run_id": None}
    write_mlflow_model(folder, "sklearn", conf, "model.skops", top=top)

    saved, dest = import_model(folder, tmp_path)  # no pickle, no trust needed
    np.testing.assert_array_equal(predict(dest, saved, x)["prediction"], model.predict(x))
    assert saved.config["mlflow"]["model_id"] == model_id
    assert "run_id" not in saved.config["mlflow"]
    assert saved.signature is None


def test_skops_trusted_types_in_mlmodel_are_not_trusted(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = iris
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    sio.dump(DecisionTreeClassifier(random_state=0).fit(x, y), folder / "model.skops")
    untrusted = sio.get_untrusted_types(file=folder / "model.skops")
    assert untrusted, "skops vouches for tree internals: this test would prove nothing"
    conf = {"pickled_model": "model.skops", "serialization_format": "skops"}
    write_mlflow_model(folder, "sklearn", {**conf, "skops_trusted_types": untrusted}, "model.skops")
    with pytest.raises(UntrustedContentError, match="--trust-pickle"):
        import_model(folder, tmp_path)


@pytest.mark.parametrize(
    ("kind", "model_format"),
    [("XGBClassifier", "xgb"), ("XGBRegressor", "ubj"), ("Booster", "json")],
)
def test_xgboost(
    tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series], kind: str, model_format: str
) -> None:
    x, y = cancer
    model: Any
    if kind == "Booster":
        model = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(x, label=y), 5)
        expected = model.predict(xgb.DMatrix(x))
    else:
        model = getattr(xgb, kind)(n_estimators=5).fit(x, y)
        expected = model.predict(x)
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    model_file = f"model.{model_format}"  # as mlflow.xgboost.save_model names it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # XGBoost warns that .xgb is not an extension it knows
        model.save_model(folder / model_file)
    conf = {
        "data": model_file,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "model_format": model_format,
        "xgb_version": xgb.__version__,
    }
    write_mlflow_model(folder, "xgboost", conf, model_file, signature={"inputs": colspecs(x)})

    saved, dest = import_model(folder, tmp_path)
    assert saved.config["inner_config"]["class"] == kind
    np.testing.assert_allclose(predict(dest, saved, x)["prediction"], expected, rtol=1e-6)
    assert saved.signature is not None and saved.signature.input_names == list(x.columns)


def test_lightgbm_booster(tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = iris
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, label=y), num_boost_round=5)
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    booster.save_model(folder / "model.lgb")
    conf = {
        "data": "model.lgb",
        "lgb_version": lgb.__version__,
        "model_class": "lightgbm.basic.Booster",
    }
    write_mlflow_model(folder, "lightgbm", conf, "model.lgb")

    saved, dest = import_model(folder, tmp_path)
    assert saved.config["inner_config"]["kind"] == "booster"
    np.testing.assert_allclose(predict(dest, saved, x).to_numpy(), booster.predict(x))


def test_lightgbm_sklearn_api_is_unpickled_only_when_trusted(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = iris
    model = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(x, y)
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    with (folder / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh)  # mlflow.lightgbm cloudpickles scikit-learn API models
    conf = {
        "data": "model.pkl",
        "lgb_version": lgb.__version__,
        "model_class": "lightgbm.sklearn.LGBMClassifier",
    }
    write_mlflow_model(folder, "lightgbm", conf, "model.pkl")
    with pytest.raises(UntrustedContentError, match="--trust-pickle"):
        import_model(folder, tmp_path)

    (tmp_path / "stored").rmdir()
    saved, dest = import_model(folder, tmp_path, trust=True)
    assert saved.config["inner_config"]["kind"] == "classifier"
    assert sorted(p.name for p in (dest / "inner").iterdir()) == ["model.txt"]  # pickle-free
    np.testing.assert_array_equal(predict(dest, saved, x)["prediction"], model.predict(x))


def test_lightgbm_sklearn_api_in_skops(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = iris
    model = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(x, y)
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    sio.dump(model, folder / "model.skops")  # recent MLflow's serialization_format="skops"
    conf = {
        "data": "model.skops",
        "lgb_version": lgb.__version__,
        "model_class": "lightgbm.sklearn.LGBMClassifier",
        "serialization_format": "skops",
        "skops_trusted_types": sio.get_untrusted_types(file=folder / "model.skops"),
    }
    write_mlflow_model(folder, "lightgbm", conf, "model.skops")
    with pytest.raises(UntrustedContentError, match="--trust-pickle"):
        import_model(folder, tmp_path)  # LightGBM's classes are not in skops' default trust

    (tmp_path / "stored").rmdir()
    saved, dest = import_model(folder, tmp_path, trust=True)
    assert sorted(p.name for p in (dest / "inner").iterdir()) == ["model.txt"]
    np.testing.assert_array_equal(predict(dest, saved, x)["prediction"], model.predict(x))


def test_onnx_with_external_data(tmp_path: Path, cancer: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = cancer
    features = x.to_numpy(dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is not the point here
        pipeline = make_pipeline(StandardScaler(), MLPClassifier((20,), random_state=0)).fit(
            features, y
        )
    proto = to_onnx(pipeline, features[:1], options={"zipmap": False})
    for tensor in proto.graph.initializer:  # raw_data, as exporters such as torch.onnx write it
        tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor), tensor.name))
    original = proto.SerializeToString()  # save_model moves the tensors out of proto itself
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    onnx.save_model(
        proto, str(folder / "model.onnx"), save_as_external_data=True
    )  # MLflow's default
    assert len(list(folder.iterdir())) == 2  # model.onnx and its external data file
    conf = {
        "data": "model.onnx",
        "onnx_session_options": None,
        "onnx_version": onnx.__version__,
        "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    }
    tensor = [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 30]}, "name": "X"}
    ]
    write_mlflow_model(folder, "onnx", conf, "model.onnx", signature={"inputs": json.dumps(tensor)})

    saved, dest = import_model(folder, tmp_path)
    assert sorted(p.name for p in (dest / "inner").iterdir()) == ["model.onnx"]  # self-contained
    session = ort.InferenceSession(original, providers=["CPUExecutionProvider"])
    expected = session.run(None, {"X": features})[0]
    np.testing.assert_array_equal(predict(dest, saved, x)["prediction"], expected)
    assert saved.signature is None  # tensor-based: the registry infers one from a sample


# --- signatures -----------------------------------------------------------------------------
def test_signature_types_and_nullability_carry_over() -> None:
    inputs = [
        {"type": "long", "name": "age", "required": True},
        {"type": "integer", "name": "rooms"},  # MLflow before 2.x wrote no 'required'
        {"type": "double", "name": "income", "required": False},
        {"type": "float", "name": "score", "required": True},
        {"type": "boolean", "name": "member", "required": True},
        {"type": "string", "name": "city", "required": False},
        {"type": "datetime", "name": "joined", "required": True},
        {"type": "binary", "name": "photo", "required": False},
    ]
    outputs = [{"type": "double", "required": True}, {"type": "double", "required": True}]
    signature = convert_signature({"inputs": json.dumps(inputs), "outputs": json.dumps(outputs)})
    assert signature is not None
    assert [(c.name, c.type, c.nullable) for c in signature.inputs] == [
        ("age", "long", False),
        ("rooms", "integer", False),
        ("income", "double", True),
        ("score", "float", False),
        ("member", "boolean", False),
        ("city", "string", True),
        ("joined", "datetime", False),
        ("photo", "binary", True),
    ]
    assert signature.output_names == ["prediction_0", "prediction_1"]


def test_signature_without_columns_is_left_to_inference() -> None:
    tensor = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}])
    assert convert_signature(None) is None
    assert convert_signature({"inputs": tensor, "outputs": tensor, "params": None}) is None
    assert convert_signature({"inputs": json.dumps([{"type": "double"}])}) is None  # unnamed
    columns = json.dumps([{"type": "double", "name": "x", "required": True}])
    signature = convert_signature({"inputs": columns, "outputs": tensor})
    assert signature is not None and signature.outputs == ()


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ('[{"type": "double", "name": "x"', "signature.inputs"),
        (
            '[{"type": "double", "name": "x"}, {"type": "array", "name": "tags", "items": {}}]',
            "signature.inputs[1]",
        ),
        ('[{"type": "decimal", "name": "x"}]', "signature.inputs[0]"),
        ('{"type": "double"}', "signature.inputs"),
        ('[{"type": "double", "name": "x", "required": "yes"}]', "signature.inputs[0]"),
    ],
)
def test_bad_signature_names_the_field(inputs: str, field: str) -> None:
    with pytest.raises(InvalidModelError, match=re.escape(field)):
        convert_signature({"inputs": inputs})


def test_malformed_signature_json_is_refused_on_import(sklearn_dir: Path, tmp_path: Path) -> None:
    mlmodel = yaml.safe_load((sklearn_dir / "MLmodel").read_text())
    mlmodel["signature"]["inputs"] = '[{"type": "double", "name": '
    (sklearn_dir / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(InvalidModelError, match=re.escape("signature.inputs")):
        import_model(sklearn_dir, tmp_path, trust=True)


# --- refused folders ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["../../etc/passwd", "/etc/passwd", "%2e%2e/x", "model.pkl#x"])
def test_model_paths_outside_the_folder_are_refused(
    sklearn_dir: Path, tmp_path: Path, value: str
) -> None:
    edit_mlmodel(sklearn_dir, "sklearn", pickled_model=value)
    with pytest.raises(UnsafePathError):
        import_model(sklearn_dir, tmp_path, trust=True)


def test_symlink_out_of_the_folder_is_refused(sklearn_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.pkl"
    (sklearn_dir / "model.pkl").rename(outside)
    (sklearn_dir / "model.pkl").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        import_model(sklearn_dir, tmp_path, trust=True)


def test_onnx_external_data_outside_the_folder_is_refused(tmp_path: Path) -> None:
    weights = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "W")
    weights.ClearField("raw_data")
    weights.data_location = onnx.TensorProto.EXTERNAL
    weights.external_data.add(key="location", value="../secret.data")
    node = onnx.helper.make_node("MatMul", ["X", "W"], ["Y"])
    graph = onnx.helper.make_graph(
        [node],
        "g",
        [onnx.helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, [None, 2])],
        [onnx.helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, [None, 2])],
        [weights],
    )
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (tmp_path / "secret.data").write_bytes(b"\x00" * 16)
    (folder / "model.onnx").write_bytes(onnx.helper.make_model(graph).SerializeToString())
    write_mlflow_model(folder, "onnx", {"data": "model.onnx"}, "model.onnx")
    with pytest.raises(UnsafePathError):
        import_model(folder, tmp_path)


def test_unsupported_flavor_lists_the_supported_ones(tmp_path: Path) -> None:
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (folder / "data").mkdir()
    (folder / "data" / "model.pth").write_bytes(b"\x80\x04")
    conf = {"model_data": "data", "pytorch_version": "2.3.1"}
    write_mlflow_model(folder, "pytorch", conf, "data/model.pth")
    with pytest.raises(InvalidModelError) as caught:
        import_model(folder, tmp_path)
    message = str(caught.value)
    assert "pytorch" in message and "python_function" in message
    assert all(name in message for name in ("onnx", "xgboost", "lightgbm", "sklearn"))


@pytest.mark.parametrize(
    "text", ["- sklearn\n- onnx\n", "just a sentence\n", "flavors: [open\n", ""]
)
def test_mlmodel_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (folder / "MLmodel").write_text(text)
    with pytest.raises(InvalidModelError, match="MLmodel"):
        import_model(folder, tmp_path)


def test_missing_model_file_is_named(sklearn_dir: Path, tmp_path: Path) -> None:
    (sklearn_dir / "model.pkl").unlink()
    with pytest.raises(InvalidModelError, match=re.escape("model.pkl")):
        import_model(sklearn_dir, tmp_path, trust=True)


# --- discovery ------------------------------------------------------------------------------
def test_sniff_detect_and_entry_point(sklearn_dir: Path, tmp_path: Path) -> None:
    flavor = MlflowFlavor()
    assert flavor.sniff(sklearn_dir)
    assert not flavor.sniff(sklearn_dir / "model.pkl")
    assert not flavor.sniff(tmp_path)
    assert not flavor.detect(LogisticRegression())
    (ep,) = entry_points(group="modelward.flavors", name="mlflow")
    assert ep.load() is MlflowFlavor


def test_registry_sniffs_an_mlflow_folder_as_mlflow(sklearn_dir: Path) -> None:
    assert isinstance(sniff_flavor(sklearn_dir), MlflowFlavor)

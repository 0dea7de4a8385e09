"""The flavor contract: every flavor, through the registry, on SQLite and PostgreSQL.

register → load by reference → predictions equal the original model's on the same rows.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from modelward.client import Client
from modelward.columns import frame_columns
from modelward.runtimes.flavors import available_flavors


@dataclass
class Case:
    """One model to push through the contract."""

    model: Any  # object, file or folder
    frame: pd.DataFrame  # rows to score
    expected: dict[str, np.ndarray]  # output column -> what the original model gives
    options: dict[str, Any] = field(default_factory=dict)  # register_model keyword arguments
    params: dict[str, Any] = field(default_factory=dict)  # prediction parameters
    flavor: str = ""
    rows: int | None = None  # output rows when not one per input row (forecasts)


def _cancer() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x, y


def _iris() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


def sklearn_pipeline(tmp: Path) -> Case:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _cancer()
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    return Case(
        m,
        x,
        {"prediction": m.predict(x), "probability_1": m.predict_proba(x)[:, 1]},
        {"input_example": x.head()},
        {"proba": True},
        "sklearn",
    )


def sklearn_tree_numpy(tmp: Path) -> Case:
    from sklearn.tree import DecisionTreeRegressor

    x, y = load_diabetes(return_X_y=True)
    m = DecisionTreeRegressor(max_depth=5, random_state=0).fit(x, y)  # fitted on an array
    frame = pd.DataFrame(x, columns=[f"feature_{i}" for i in range(x.shape[1])])
    return Case(m, frame, {"prediction": m.predict(x)}, {"input_example": x[:5]}, flavor="sklearn")


def sklearn_pickle_file(tmp: Path) -> Case:
    from sklearn.ensemble import RandomForestClassifier

    x, y = _iris()
    m = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    (tmp / "forest.pkl").write_bytes(pickle.dumps(m))
    return Case(
        tmp / "forest.pkl",
        x,
        {"prediction": m.predict(x)},
        {"trust_pickle": True},
        flavor="sklearn",
    )


def xgboost_classifier(tmp: Path) -> Case:
    import xgboost as xgb

    x, y = _cancer()
    m = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(x, y)
    return Case(
        m,
        x,
        {"prediction": m.predict(x), "probability_1": m.predict_proba(x)[:, 1]},
        {"input_example": x.head()},
        {"proba": True},
        "xgboost",
    )


def xgboost_booster_file(tmp: Path) -> Case:
    import xgboost as xgb

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    booster = xgb.train({"max_depth": 3}, xgb.DMatrix(x, y), num_boost_round=10)
    booster.save_model(tmp / "booster.json")
    return Case(
        tmp / "booster.json", x, {"prediction": booster.predict(xgb.DMatrix(x))}, flavor="xgboost"
    )


def lightgbm_classifier(tmp: Path) -> Case:
    import lightgbm as lgb

    x, y = _iris()
    m = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(x, y)
    return Case(
        m,
        x,
        {"prediction": m.predict(x), "probability_2": m.predict_proba(x)[:, 2]},
        {"input_example": x.head()},
        {"proba": True},
        "lightgbm",
    )


def lightgbm_regressor_file(tmp: Path) -> Case:
    import lightgbm as lgb

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    m = lgb.LGBMRegressor(n_estimators=20, verbose=-1).fit(x, y)
    m.booster_.save_model(tmp / "model.txt")
    return Case(
        tmp / "model.txt",
        x,
        {"prediction": m.predict(x)},
        {"input_example": x.head()},
        flavor="lightgbm",
    )


def onnx_graph(tmp: Path) -> Case:
    import onnxruntime as ort
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x, y = _iris()
    m = LogisticRegression(max_iter=1000).fit(x.to_numpy(), y)
    proto = to_onnx(m, x.to_numpy()[:1].astype(np.float32), options={"zipmap": False})
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {session.get_inputs()[0].name: x.to_numpy(np.float32)})
    return Case(
        proto,
        x,
        {"prediction": label, "probability_1": proba[:, 1]},
        {"input_example": x.head()},
        {"proba": True},
        "onnx",
    )


def onnx_file(tmp: Path) -> Case:
    case = onnx_graph(tmp)
    (tmp / "model.onnx").write_bytes(case.model.SerializeToString())
    case.model = tmp / "model.onnx"
    return case


def python_class(tmp: Path) -> Case:
    from modelward.runtimes.python import PythonModel

    (tmp / "scorer.py").write_text(
        "import pandas as pd\n"
        "class Scorer:\n"
        "    params = {'scale': 'multiply the score'}\n"
        "    def load(self, data):\n"
        "        self.weights = pd.read_csv(data['weights'] / 'weights.csv').set_index('column')['w']\n"
        "    def predict(self, frame, scale=1.0):\n"
        "        return (frame[self.weights.index] * self.weights).sum(axis=1) * scale\n"
    )
    (tmp / "data").mkdir()
    (tmp / "data" / "weights.csv").write_text("column,w\na,0.5\nb,2\n")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, -1.0]})
    expected = (frame["a"] * 0.5 + frame["b"] * 2) * 3
    model = PythonModel("scorer:Scorer", code=[tmp / "scorer.py"], data={"weights": tmp / "data"})
    return Case(
        model,
        frame,
        {"prediction": expected.to_numpy()},
        {"input_example": frame},
        {"scale": 3},
        "python",
    )


def mlflow_folder(tmp: Path) -> Case:
    from sklearn.linear_model import LogisticRegression

    from tests.runtimes.test_mlflow import colspecs, write_mlflow_model

    x, y = _cancer()
    m = LogisticRegression(solver="liblinear").fit(x, y)
    folder = tmp / "mlflow-model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(m))
    write_mlflow_model(
        folder,
        "sklearn",
        {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"},
        "model.pkl",
        signature={"inputs": colspecs(x)},
    )
    return Case(folder, x, {"prediction": m.predict(x)}, {"trust_pickle": True}, flavor="mlflow")


def statsmodels_sarimax_exog(tmp: Path) -> Case:
    import statsmodels.api as sm
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    data = sm.datasets.macrodata.load_pandas().data
    index = pd.date_range("1959-01-01", periods=len(data), freq="QS")
    infl = pd.Series(data["infl"].to_numpy(), index=index)
    exog = pd.DataFrame(
        {"unemp": data["unemp"].to_numpy(), "realint": data["realint"].to_numpy()}, index=index
    )
    fit = SARIMAX(infl[:-8], exog=exog[:-8], order=(1, 0, 0), trend="c").fit(disp=False)
    future = exog[-8:].reset_index(drop=True)
    expected = fit.forecast(steps=8, exog=exog[-8:]).to_numpy()
    return Case(
        fit, future, {"forecast": expected}, {"input_example": future}, flavor="statsmodels"
    )


def statsmodels_holt_winters(tmp: Path) -> Case:
    import statsmodels.api as sm
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    weekly = sm.datasets.co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean().interpolate()["1990":]
    fit = ExponentialSmoothing(monthly, trend="add", seasonal="add", seasonal_periods=12).fit()
    expected = fit.forecast(12).to_numpy()
    return Case(
        fit,
        pd.DataFrame(),
        {"forecast": expected},
        params={"horizon": 12},
        flavor="statsmodels",
        rows=12,
    )


def rules_file(tmp: Path) -> Case:
    from modelward.demo.scenario import APPLICANTS, RULES_FILE
    from modelward.runtimes.rules import DecisionTable

    table = DecisionTable.from_yaml(RULES_FILE)
    expected = table.evaluate(APPLICANTS)
    return Case(
        RULES_FILE,
        APPLICANTS,
        {"decision": expected["decision"].to_numpy(), "limit": expected["limit"].to_numpy()},
        flavor="rules",
    )


def pmml_tree_file(tmp: Path) -> Case:
    from sklearn.tree import DecisionTreeClassifier

    from tests.runtimes.test_pmml import SPECIES, document, iris_fields, tree_model

    x, y = load_iris(return_X_y=True, as_frame=True)
    labels = np.asarray(["setosa", "versicolor", "virginica"])[y]
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, labels)
    classes, features = list(model.classes_), list(x.columns)
    (tmp / "tree.pmml").write_text(
        document(iris_fields(features, classes), tree_model(model, features, classes, SPECIES))
    )
    return Case(tmp / "tree.pmml", x, {"prediction": model.predict(x)}, flavor="pmml")


def process_node_folder(tmp: Path) -> Case:
    import json

    folder = Path(__file__).resolve().parents[2] / "examples" / "process" / "node"
    w = json.loads((folder / "weights.json").read_text())
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, 300),
            "income": rng.uniform(10, 200, 300),
            "debt_ratio": rng.uniform(0, 2, 300),
        }
    )
    z = w["intercept"] + sum(v * frame[k].to_numpy() for k, v in w["weights"].items())
    p = 1 / (1 + np.exp(-z))
    expected = {"probability": p, "label": (p >= 0.3).astype(np.int64)}
    return Case(folder, frame, expected, params={"threshold": 0.3}, flavor="process")


CASES: dict[str, Callable[[Path], Case]] = {
    "sklearn-pipeline": sklearn_pipeline,
    "sklearn-tree-numpy": sklearn_tree_numpy,
    "sklearn-pickle-file": sklearn_pickle_file,
    "xgboost-classifier": xgboost_classifier,
    "xgboost-booster-file": xgboost_booster_file,
    "lightgbm-classifier": lightgbm_classifier,
    "lightgbm-regressor-file": lightgbm_regressor_file,
    "onnx-graph": onnx_graph,
    "onnx-file": onnx_file,
    "python-class": python_class,
    "mlflow-folder": mlflow_folder,
    "statsmodels-sarimax-exog": statsmodels_sarimax_exog,
    "statsmodels-holt-winters": statsmodels_holt_winters,
    "rules-file": rules_file,
    "pmml-tree-file": pmml_tree_file,
    "process-node-folder": process_node_folder,
}


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_register_load_predict_equals_original(
    client: Client, case_name: str, tmp_path: Path
) -> None:
    case = CASES[case_name](tmp_path)
    # low risk: the champion alias auto-approves it (docs/governance.md)
    version = client.register_model(case.model, "contract", risk_tier="low", **case.options)
    assert version.flavor == case.flavor  # detected, not given
    client.set_alias("contract", "champion", version.version)
    loaded = client.load_model("models:/contract@champion")
    assert loaded.metadata["flavor"] == case.flavor and loaded.metadata["digest"] == version.digest
    out = loaded.predict(case.frame, **case.params)
    assert len(out) == (case.rows if case.rows is not None else len(case.frame))
    for column, expected in case.expected.items():
        got = out[column].to_numpy()
        if np.issubdtype(np.asarray(expected).dtype, np.floating):
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
        else:
            np.testing.assert_array_equal(got, expected)
    # the serving fast path (named numpy columns, no pandas where the flavor allows) agrees
    fast = loaded.score_columns(frame_columns(case.frame), case.params)
    for column in case.expected:
        np.testing.assert_array_equal(fast[column], out[column].to_numpy())
    loaded.unload()


def test_every_builtin_flavor_is_covered(tmp_path: Path) -> None:
    covered = {name.split("-")[0] for name in CASES}
    assert covered == set(available_flavors())

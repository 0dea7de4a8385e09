"""Registration-time ONNX compilation of scikit-learn models, kept only when it agrees."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from modelward.client import Client
from modelward.columns import frame_columns
from modelward.errors import InvalidInputError
from modelward.runtimes import compile as compile_module


def test_classifier_is_compiled_and_scores_like_the_original(sqlite_client: Client) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    version = sqlite_client.register_model(model, "c", input_example=x.head(50), compile="onnx")
    compiled = version.flavor_config["compiled"]
    assert compiled["onnx"] is True and compiled["max_difference"] <= compiled["tolerance"]
    loaded = sqlite_client.load_model("c")
    assert loaded.runtime._compiled is not None  # the graph is what scores
    out = loaded.predict(x, proba=True)
    np.testing.assert_array_equal(out["prediction"], model.predict(x))
    np.testing.assert_allclose(out["probability_1"], model.predict_proba(x)[:, 1], atol=1e-6)
    fast = loaded.score_columns(frame_columns(x), {"proba": True})
    np.testing.assert_array_equal(fast["prediction"], model.predict(x))


def test_regressor_is_compiled(sqlite_client: Client) -> None:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge().fit(x, y)
    version = sqlite_client.register_model(model, "r", input_example=x.head(20), compile="onnx")
    assert version.flavor_config["compiled"]["onnx"] is True
    np.testing.assert_allclose(
        sqlite_client.load_model("r").predict(x)["prediction"], model.predict(x), rtol=1e-9
    )


def test_what_cannot_be_compiled_is_kept_as_is_with_the_reason(
    sqlite_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    custom = make_pipeline(
        FunctionTransformer(np.log1p), LogisticRegression(solver="liblinear")
    ).fit(x, y)
    version = sqlite_client.register_model(custom, "f", input_example=x.head(20), compile="onnx")
    assert version.flavor_config["compiled"]["onnx"] is False
    assert "skl2onnx cannot convert" in version.flavor_config["compiled"]["reason"]
    np.testing.assert_array_equal(
        sqlite_client.load_model("f").predict(x)["prediction"], custom.predict(x)
    )
    monkeypatch.setattr(
        compile_module, "TOLERANCE", -1.0
    )  # nothing can agree within a negative tolerance
    plain = LogisticRegression(solver="liblinear").fit(x, y)
    refused = sqlite_client.register_model(plain, "g", input_example=x.head(20), compile="onnx")
    assert "do not match the original" in refused.flavor_config["compiled"]["reason"]


def test_bad_compile_requests(sqlite_client: Client, tmp_path: object) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(solver="liblinear").fit(x, y)
    with pytest.raises(InvalidInputError, match="needs an input example"):
        sqlite_client.register_model(model, "m", compile="onnx")
    with pytest.raises(InvalidInputError, match="unknown compile target"):
        sqlite_client.register_model(model, "m", input_example=x.head(), compile="tvm")
    import lightgbm as lgb

    booster = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y)
    with pytest.raises(InvalidInputError, match="only scikit-learn models are compiled"):
        sqlite_client.register_model(booster, "m", input_example=x.head(), compile="onnx")
    assert sqlite_client.list() == []


def test_columns_are_matched_by_name_not_position(sqlite_client: Client) -> None:
    """A signature that lists the columns in another order than the model was fitted on."""
    from modelward.signatures import infer_signature

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(solver="liblinear").fit(x, y)
    shuffled = x[list(reversed(x.columns))]
    for compile_to in (None, "onnx"):
        name = f"order-{compile_to}"
        sqlite_client.register_model(
            model,
            name,
            signature=infer_signature(shuffled),
            input_example=shuffled.head(20),
            compile=compile_to,
        )
        loaded = sqlite_client.load_model(name)
        np.testing.assert_array_equal(loaded.predict(shuffled)["prediction"], model.predict(x))
        fast = loaded.score_columns(frame_columns(shuffled), {})
        np.testing.assert_array_equal(fast["prediction"], model.predict(x))

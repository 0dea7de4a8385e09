from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from modelward.errors import InvalidInputError
from modelward.monitoring.inference_log import inference_root
from modelward.monitoring.labels import add_labels
from modelward.monitoring.performance import check_goals, performance
from tests.monitoring.test_labels import NOW, T0, WINDOW, corrupt, failed, scored, write_log


def log_and_label(home: Path, outputs: Mapping[str, Sequence[Any]], labels: list[Any]) -> None:
    """One request per row of ``outputs`` (a minute apart), each labelled."""
    rows = len(labels)
    write_log(
        home,
        [
            scored(f"r{i}", {k: [v[i]] for k, v in outputs.items()}, at=T0 + timedelta(minutes=i))
            for i in range(rows)
        ],
    )
    frame = pd.DataFrame({"request_id": [f"r{i}" for i in range(rows)], "label": labels})
    add_labels(home, "churn", frame, now=NOW)


def test_binary_classification_with_probabilities(mw_home: Path) -> None:
    truth = [1, 0, 1, 1, 0, 0]
    predicted = [1, 0, 0, 1, 0, 1]
    p1 = [0.9, 0.2, 0.4, 0.8, 0.1, 0.6]
    outputs: dict[str, list[Any]] = {
        "prediction": predicted,
        "probability_0": [1 - p for p in p1],
        "probability_1": p1,
    }
    log_and_label(mw_home, outputs, truth)
    result = performance(mw_home, "churn", *WINDOW)
    assert (result.task, result.n_labelled, result.status) == ("classification", 6, "ok")
    assert result.prediction_column == "output__prediction"
    assert result.metrics["accuracy"] == pytest.approx(4 / 6)
    assert result.metrics["precision"] == pytest.approx(2 / 3)  # positive class: 1
    assert result.metrics["recall"] == pytest.approx(2 / 3)
    assert result.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, p1))
    assert result.metrics["log_loss"] == pytest.approx(sk.log_loss(truth, p1))
    assert result.average is not None and "binary" in result.average
    one = performance(mw_home, "churn", *WINDOW, score_column="probability_1")
    assert one.score_columns == ("output__probability_1",)
    assert one.metrics["roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    assert one.metrics["log_loss"] == pytest.approx(result.metrics["log_loss"])


def test_multiclass_is_macro_averaged(mw_home: Path) -> None:
    truth = ["a", "b", "c", "a", "b", "c"]
    predicted = ["a", "b", "b", "a", "c", "c"]
    log_and_label(mw_home, {"prediction": predicted}, truth)
    result = performance(mw_home, "churn", *WINDOW)
    assert result.task == "classification" and result.average == "macro"
    assert result.metrics["f1"] == pytest.approx(sk.f1_score(truth, predicted, average="macro"))
    assert "roc_auc" not in result.metrics  # no probabilities were logged


def test_a_score_column_gives_auc_for_binary_labels(mw_home: Path) -> None:
    truth = [True, False, True, False, True]
    score = [0.7, 0.3, 0.2, 0.1, 0.9]
    outputs: dict[str, list[Any]] = {"approved": [s > 0.5 for s in score], "score": score}
    log_and_label(mw_home, outputs, truth)
    result = performance(
        mw_home, "churn", *WINDOW, prediction_column="approved", score_column="score"
    )
    assert result.score_columns == ("output__score",)
    assert result.metrics["accuracy"] == pytest.approx(4 / 5)
    assert result.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, score))
    assert result.metrics["log_loss"] == pytest.approx(sk.log_loss(truth, score))


def test_regression_skips_zero_actuals_in_mape(mw_home: Path) -> None:
    truth = [10.5, 0.0, 20.0, 40.0]
    predicted = [11.5, 1.0, 18.0, 44.0]
    log_and_label(mw_home, {"prediction": predicted}, truth)
    result = performance(mw_home, "churn", *WINDOW)
    assert result.task == "regression"  # fractional labels
    y, p = np.array(truth), np.array(predicted)
    assert result.metrics["mape"] == pytest.approx(np.mean([1 / 10.5, 2 / 20, 4 / 40]))
    assert result.metrics["rmse"] == pytest.approx(np.sqrt(np.mean((y - p) ** 2)))
    assert result.metrics["mae"] == pytest.approx(2.0)
    assert result.metrics["r2"] == pytest.approx(sk.r2_score(y, p))


def test_forecast_mase_uses_the_naive_scale_of_the_labels(mw_home: Path) -> None:
    truth = [100.0, 110.0, 105.0, 120.0]
    predicted = [98.0, 112.0, 100.0, 125.0]
    log_and_label(mw_home, {"forecast": predicted}, truth)
    result = performance(mw_home, "churn", *WINDOW)
    assert result.task == "forecast"
    y, p = np.array(truth), np.array(predicted)
    scale = np.mean(np.abs(np.diff(y)))  # (10 + 5 + 15) / 3
    assert result.metrics["mase"] == pytest.approx(np.mean(np.abs(y - p)) / scale)
    assert result.metrics["smape"] == pytest.approx(
        np.mean(2 * np.abs(y - p) / (np.abs(y) + np.abs(p)))
    )
    assert result.metrics["mape"] == pytest.approx(np.mean(np.abs(y - p) / y))


def test_the_task_can_be_forced(mw_home: Path) -> None:
    log_and_label(mw_home, {"prediction": [1, 2, 3, 4]}, [1, 2, 3, 5])
    assert performance(mw_home, "churn", *WINDOW).task == "classification"  # few whole numbers
    forced = performance(mw_home, "churn", *WINDOW, task="regression")
    assert forced.metrics["mae"] == pytest.approx(0.25)
    with pytest.raises(InvalidInputError, match="unknown task"):
        performance(mw_home, "churn", *WINDOW, task="ranking")


def test_text_labels_cannot_be_regressed(mw_home: Path) -> None:
    log_and_label(mw_home, {"prediction": ["yes", "no"]}, ["yes", "yes"])
    with pytest.raises(InvalidInputError, match="not all numeric"):
        performance(mw_home, "churn", *WINDOW, task="regression")


def test_an_empty_window_is_insufficient_data_never_nan(mw_home: Path) -> None:
    empty = performance(mw_home, "churn", *WINDOW)  # no log at all
    assert (empty.n_labelled, empty.metrics, empty.status) == (0, {}, "insufficient data")
    write_log(mw_home, [scored("r0", {"prediction": [1]}), failed("r1")])
    unlabelled = performance(mw_home, "churn", *WINDOW)
    assert (unlabelled.n_labelled, unlabelled.metrics, unlabelled.task) == (0, {}, None)
    add_labels(mw_home, "churn", pd.DataFrame({"request_id": ["r0", "r1"], "label": [1, 0]}))
    later = performance(mw_home, "churn", T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert later.n_labelled == 0
    json.dumps(later.to_dict(), allow_nan=False)
    # one labelled row: metrics that need two (R², AUC) are left out rather than NaN
    single = performance(mw_home, "churn", *WINDOW, task="regression")
    assert single.n_labelled == 1 and "r2" not in single.metrics
    json.dumps(single.to_dict(), allow_nan=False)


def test_unknown_output_columns_are_refused(mw_home: Path) -> None:
    log_and_label(mw_home, {"prediction": [1, 0]}, [1, 0])
    with pytest.raises(InvalidInputError, match="'nope' is not an output") as caught:
        performance(mw_home, "churn", *WINDOW, prediction_column="nope")
    assert caught.value.hint == "outputs: prediction"
    with pytest.raises(InvalidInputError, match="score column"):
        performance(mw_home, "churn", *WINDOW, score_column="output__nope")


def test_a_corrupt_log_file_is_skipped(mw_home: Path) -> None:
    log_and_label(mw_home, {"prediction": [1, 0, 1]}, [1, 0, 0])
    bad = corrupt(inference_root(mw_home) / "model=churn" / "date=2026-11-01")
    result = performance(mw_home, "churn", *WINDOW)
    assert result.n_labelled == 3 and result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert result.skipped_files == (str(bad),)


def test_goals_are_checked_as_in_validation(mw_home: Path) -> None:
    log_and_label(mw_home, {"prediction": [1, 0, 1, 1]}, [1, 0, 0, 1])
    result = performance(mw_home, "churn", *WINDOW)
    checks = check_goals(result, ["accuracy>=0.7", {"metric": "f1", "min": 0.9}, "auc>=0.8"])
    assert [c["status"] for c in checks] == ["passed", "failed", "failed"]
    assert checks[0]["value"] == pytest.approx(0.75)
    assert "not computed" in checks[2]["detail"]
    skipped = check_goals({}, ["accuracy>=0.7"])
    assert skipped[0]["status"] == "skipped" and "insufficient data" in skipped[0]["detail"]
    with pytest.raises(InvalidInputError, match="unknown metric"):
        check_goals(result.metrics, ["accuracyy>=0.7"])

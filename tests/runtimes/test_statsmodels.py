"""The statsmodels flavor: forecasters saved without pickle forecast exactly like the originals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.statespace.sarimax import SARIMAX

from modelward.errors import InvalidInputError, InvalidModelError, UntrustedContentError
from modelward.runtimes.base import SavedModel, SaveOptions
from modelward.runtimes.pickles import is_pickle_file
from modelward.runtimes.statsmodels import StatsmodelsFlavor, StatsmodelsRuntime

RTOL = 1e-8
NO_INPUT = pd.DataFrame()


@pytest.fixture(scope="module")
def co2() -> pd.Series:
    """Monthly mean CO2 at Mauna Loa, 1990-2001 (statsmodels ships the weekly data)."""
    weekly = sm.datasets.co2.load_pandas().data["co2"]
    return weekly.resample("MS").mean().interpolate()["1990":]


@pytest.fixture(scope="module")
def macro() -> tuple[pd.Series, pd.DataFrame]:
    """Quarterly US inflation with unemployment and the real interest rate as regressors."""
    data = sm.datasets.macrodata.load_pandas().data
    index = pd.date_range("1959-01-01", periods=len(data), freq="QS")
    infl = pd.Series(data["infl"].to_numpy(), index=index, name="infl")
    exog = pd.DataFrame(
        {"unemp": data["unemp"].to_numpy(), "realint": data["realint"].to_numpy()}, index=index
    )
    return infl, exog


@pytest.fixture(scope="module")
def arima(co2: pd.Series) -> Any:
    return ARIMA(co2, order=(1, 1, 1), trend="t").fit()


@pytest.fixture(scope="module")
def sarimax(macro: tuple[pd.Series, pd.DataFrame]) -> Any:
    infl, exog = macro
    return SARIMAX(infl[:-8], exog=exog[:-8], order=(1, 0, 0), trend="c").fit(disp=False)


@pytest.fixture(scope="module")
def holt_winters(co2: pd.Series) -> Any:
    model = ExponentialSmoothing(co2, trend="add", seasonal="add", seasonal_periods=12)
    return model.fit()


def register(results: Any, dest: Path, **options: Any) -> tuple[SavedModel, StatsmodelsRuntime]:
    """Save through the flavor, then load the folder back as a fresh runtime."""
    flavor = StatsmodelsFlavor()
    assert flavor.detect(results)
    saved = flavor.save(results, dest, SaveOptions(**options))
    json.dumps(saved.config, allow_nan=False)  # the registry stores it as strict JSON
    runtime = flavor.runtime(dest, saved.config)
    runtime.load()
    assert isinstance(runtime, StatsmodelsRuntime)
    return saved, runtime


def assert_no_pickle(dest: Path) -> None:
    files = sorted(p.name for p in dest.iterdir())
    assert files == ["model.npz"]
    assert not any(is_pickle_file(p) for p in dest.iterdir())
    with np.load(dest / "model.npz", allow_pickle=False) as data:  # refuses object arrays
        assert all(data[key].dtype != object for key in data.files)


def assert_same_forecast(out: pd.DataFrame, expected: pd.Series) -> None:
    assert list(out.columns[:2]) == ["time", "forecast"]
    np.testing.assert_allclose(out["forecast"].to_numpy(), expected.to_numpy(), rtol=RTOL)
    assert pd.Index(out["time"]).equals(expected.index)


# --- round trips ------------------------------------------------------------------------------
def test_arima_forecasts_and_intervals_match(arima: Any, tmp_path: Path) -> None:
    saved, runtime = register(arima, tmp_path)

    out = runtime.predict(NO_INPUT, {"horizon": 12, "interval": 0.95})

    assert_same_forecast(out, arima.forecast(steps=12))
    expected = arima.get_forecast(steps=12).conf_int(alpha=0.05)
    np.testing.assert_allclose(out[["lower", "upper"]].to_numpy(), expected.to_numpy(), rtol=RTOL)
    assert out["time"].dtype.kind == "M" and out["time"].iloc[0] == pd.Timestamp("2002-01-01")
    assert_no_pickle(tmp_path)
    assert saved.config["kind"] == "arima" and saved.config["format"] == "native"
    assert saved.signature is not None and saved.signature.inputs == ()
    assert saved.signature.output_names == ["time", "forecast"]


def test_sarimax_with_exog_matches(
    sarimax: Any, macro: tuple[pd.Series, pd.DataFrame], tmp_path: Path
) -> None:
    future = macro[1][-8:]
    saved, runtime = register(sarimax, tmp_path)

    out = runtime.predict(future.reset_index(drop=True), {"interval": 0.8})

    assert_same_forecast(out, sarimax.forecast(steps=8, exog=future))
    expected = sarimax.get_forecast(steps=8, exog=future).conf_int(alpha=0.2)
    np.testing.assert_allclose(out[["lower", "upper"]].to_numpy(), expected.to_numpy(), rtol=RTOL)
    assert_no_pickle(tmp_path)
    assert saved.signature is not None
    assert saved.signature.input_names == ["unemp", "realint"]
    assert runtime.metadata()["exog_names"] == ["unemp", "realint"]


def test_holt_winters_matches_and_has_no_intervals(holt_winters: Any, tmp_path: Path) -> None:
    saved, runtime = register(holt_winters, tmp_path)

    out = runtime.predict(NO_INPUT, {"horizon": 30})

    assert_same_forecast(out, holt_winters.forecast(30))
    assert_no_pickle(tmp_path)
    assert saved.config["kind"] == "holtwinters"
    with pytest.raises(InvalidInputError, match="no prediction intervals"):
        runtime.predict(NO_INPUT, {"horizon": 3, "interval": 0.9})


def test_ets_matches_with_intervals(co2: pd.Series, tmp_path: Path) -> None:
    model = ETSModel(co2, error="add", trend="add", seasonal="add", seasonal_periods=12)
    results = model.fit(disp=False)
    _, runtime = register(results, tmp_path)

    out = runtime.predict(NO_INPUT, {"horizon": 6, "interval": 0.9})

    assert_same_forecast(out, results.forecast(6))
    frame = results.get_prediction(start=len(co2), end=len(co2) + 5).summary_frame(alpha=0.1)
    np.testing.assert_allclose(out["lower"], frame["pi_lower"], rtol=RTOL)
    np.testing.assert_allclose(out["upper"], frame["pi_upper"], rtol=RTOL)


def test_plain_arrays_forecast_integer_steps(co2: pd.Series, tmp_path: Path) -> None:
    results = ARIMA(co2.to_numpy(), order=(2, 0, 0)).fit()
    saved, runtime = register(results, tmp_path)

    out = runtime.predict(NO_INPUT, {"horizon": 3})

    np.testing.assert_allclose(out["forecast"], results.forecast(3), rtol=RTOL)
    assert out["time"].tolist() == [len(co2), len(co2) + 1, len(co2) + 2]
    assert saved.signature is not None and saved.signature.outputs[0].type == "long"


def test_period_index_forecasts_dated(
    macro: tuple[pd.Series, pd.DataFrame], tmp_path: Path
) -> None:
    infl = macro[0].copy()
    infl.index = pd.period_range("1959Q1", periods=len(infl), freq="Q")
    results = ARIMA(infl, order=(1, 0, 0)).fit()
    _, runtime = register(results, tmp_path)

    out = runtime.predict(NO_INPUT, {"horizon": 2})

    expected = results.forecast(2)
    np.testing.assert_allclose(out["forecast"], expected, rtol=RTOL)
    assert list(out["time"]) == list(expected.index.to_timestamp())


def test_exog_names_come_from_the_sample(
    macro: tuple[pd.Series, pd.DataFrame], tmp_path: Path
) -> None:
    infl, exog = macro
    results = SARIMAX(infl.to_numpy()[:-4], exog=exog.to_numpy()[:-4], order=(1, 0, 0)).fit(
        disp=False
    )
    sample = exog[:-4].reset_index(drop=True)
    saved, runtime = register(results, tmp_path, sample=sample)

    assert saved.signature is not None and saved.signature.input_names == ["unemp", "realint"]
    out = runtime.predict(exog[-4:].reset_index(drop=True), {})
    expected = results.forecast(steps=4, exog=exog.to_numpy()[-4:])
    np.testing.assert_allclose(out["forecast"], expected, rtol=RTOL)


def test_metadata_describes_the_model(arima: Any, tmp_path: Path) -> None:
    _, runtime = register(arima, tmp_path)

    meta = runtime.metadata()

    assert meta["model_class"] == "statsmodels.tsa.arima.model.ARIMA"
    assert meta["order"] == [1, 1, 1] and meta["seasonal_order"] == [0, 0, 0, 0]
    assert meta["nobs"] == 144 and meta["freq"] == "MS" and meta["exog_names"] == []


# --- what needs pickle, and trust -------------------------------------------------------------
def test_other_results_need_trust(co2: pd.Series, tmp_path: Path) -> None:
    results = AutoReg(co2, lags=2).fit()
    flavor = StatsmodelsFlavor()

    with pytest.raises(UntrustedContentError, match="without pickle"):
        flavor.save(results, tmp_path, SaveOptions())
    assert list(tmp_path.iterdir()) == []

    saved, runtime = register(results, tmp_path, trust_pickle=True)
    assert saved.config["format"] == "pickle"
    out = runtime.predict(NO_INPUT, {"horizon": 4})
    assert_same_forecast(out, results.forecast(4))


def test_results_that_do_not_rebuild_are_refused(co2: pd.Series, tmp_path: Path) -> None:
    # extend() starts the new model from the old one's final state, which the spec cannot hold.
    results = ARIMA(co2[:-12], order=(1, 1, 1)).fit().extend(co2[-12:])

    with pytest.raises(UntrustedContentError, match="does not reproduce its forecasts"):
        StatsmodelsFlavor().save(results, tmp_path, SaveOptions())


def test_a_rebuild_that_drifted_is_refused_at_load(arima: Any, tmp_path: Path) -> None:
    # What a statsmodels upgrade that changed a model's maths would look like.
    saved, _ = register(arima, tmp_path)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["reference"] = arrays["reference"] * 1.001
    np.savez(tmp_path / "model.npz", **arrays)
    runtime = StatsmodelsFlavor().runtime(tmp_path, saved.config)

    with pytest.raises(InvalidModelError, match="no longer forecasts"):
        runtime.load()


def test_unfitted_models_are_not_saved(co2: pd.Series, tmp_path: Path) -> None:
    model = ARIMA(co2, order=(1, 0, 0))
    flavor = StatsmodelsFlavor()

    assert not flavor.detect(model)
    with pytest.raises(InvalidModelError, match="not a fitted statsmodels forecaster"):
        flavor.save(model, tmp_path, SaveOptions())


def test_detect_imports_nothing() -> None:
    code = (
        "import sys\n"
        "from modelward.runtimes.statsmodels import StatsmodelsFlavor\n"
        "assert not StatsmodelsFlavor().detect(object())\n"
        "assert 'statsmodels' not in sys.modules, 'statsmodels was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- bad requests -----------------------------------------------------------------------------
@pytest.mark.parametrize("horizon", [0, -1, "a", True, 2.5, None, 10**9])
def test_bad_horizon_is_refused(horizon: Any, arima: Any, tmp_path: Path) -> None:
    _, runtime = register(arima, tmp_path)
    params = {} if horizon is None else {"horizon": horizon}

    with pytest.raises(InvalidInputError, match="horizon"):
        runtime.predict(NO_INPUT, params)


def test_horizon_may_arrive_as_text(arima: Any, tmp_path: Path) -> None:
    _, runtime = register(arima, tmp_path)

    assert len(runtime.predict(NO_INPUT, {"horizon": "5"})) == 5


@pytest.mark.parametrize("interval", [0, 1, 95, "high", True])
def test_bad_interval_is_refused(interval: Any, arima: Any, tmp_path: Path) -> None:
    _, runtime = register(arima, tmp_path)

    with pytest.raises(InvalidInputError, match="interval"):
        runtime.predict(NO_INPUT, {"horizon": 2, "interval": interval})


def test_unknown_parameter_is_refused(arima: Any, tmp_path: Path) -> None:
    _, runtime = register(arima, tmp_path)

    with pytest.raises(InvalidInputError, match="unknown prediction parameter"):
        runtime.predict(NO_INPUT, {"steps": 3})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="realint"), "missing future exogenous column"),
        (lambda f: f.iloc[0:0], "needs future values"),
        (lambda f: f.assign(unemp="high"), "must be numeric"),
        (lambda f: f.assign(unemp=np.nan), "missing value"),
    ],
)
def test_bad_future_exog_is_refused(
    change: Any,
    message: str,
    sarimax: Any,
    macro: tuple[pd.Series, pd.DataFrame],
    tmp_path: Path,
) -> None:
    _, runtime = register(sarimax, tmp_path)
    future = macro[1][-8:].reset_index(drop=True)

    with pytest.raises(InvalidInputError, match=message):
        runtime.predict(change(future), {})


def test_horizon_must_match_the_exog_rows(
    sarimax: Any, macro: tuple[pd.Series, pd.DataFrame], tmp_path: Path
) -> None:
    _, runtime = register(sarimax, tmp_path)
    future = macro[1][-8:].reset_index(drop=True)

    with pytest.raises(InvalidInputError, match="'horizon' is 5 but the input has 8 rows"):
        runtime.predict(future, {"horizon": 5})
    assert len(runtime.predict(future, {"horizon": 8})) == 8

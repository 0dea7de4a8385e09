"""The statsmodels runtime: loads a saved forecaster and answers forecast requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError
from modelward.runtimes.base import Runtime
from modelward.runtimes.pickles import load_pickle
from modelward.runtimes.statsmodels.common import STATESPACE, quiet
from modelward.runtimes.statsmodels.params import future_exog, horizon_steps, interval_coverage
from modelward.runtimes.statsmodels.rebuild import rebuild, reference_forecasts, same_values


class StatsmodelsRuntime(Runtime):
    params = {
        "horizon": "number of steps to forecast (default: the number of rows of future exog)",
        "interval": "prediction-interval coverage, e.g. 0.95: adds lower/upper columns",
    }

    def load(self) -> None:
        file = self.path / self.config["file"]
        if self.config["format"] == "pickle":
            # Trust was given explicitly at registration and is bound to this artifact's digest.
            self.results_ = load_pickle(file, trusted=True)
            return
        with np.load(file, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        hint = (
            f"it was saved with statsmodels {self.config.get('statsmodels_version')}; "
            "install that version or register the model again"
        )
        try:
            results = rebuild(self.config, arrays)
            forecasts, _ = reference_forecasts(results, self.config["kind"], arrays)
        except InvalidModelError:
            raise
        except Exception as exc:  # e.g. a statsmodels release that changed a constructor
            raise InvalidModelError(
                f"the {self.config['model_class']} model could not be rebuilt: {exc}", hint=hint
            ) from exc
        if "reference" in arrays and not same_values(arrays["reference"], forecasts):
            raise InvalidModelError(
                f"the rebuilt {self.config['model_class']} model no longer forecasts what it "
                "did when it was registered",
                hint=hint,
            )
        self.results_ = results

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        names = list(self.config.get("exog_names") or [])
        horizon = horizon_steps(params.get("horizon"), len(frame) if names else None)
        coverage = interval_coverage(params.get("interval"))
        if coverage is not None and not self._gives_intervals():
            raise InvalidInputError(
                f"{self.config['model_class']} models give no prediction intervals",
                hint="drop the 'interval' parameter (ARIMA, SARIMAX and ETSModel give them)",
            )
        exog = future_exog(frame, names) if names else None
        try:
            with quiet():
                mean, bounds = self._forecast(horizon, exog, coverage)
        except Exception as exc:  # the pickled kinds call forecast() with no contract of ours
            raise InvalidInputError(
                f"statsmodels could not forecast {horizon} step(s): {exc}",
                hint="check the horizon and the future exogenous values",
            ) from exc
        return _forecast_frame(mean, bounds, int(self.config["nobs"]))

    def _gives_intervals(self) -> bool:
        kind = self.config["kind"]
        return kind in ("arima", "sarimax", "ets") or (
            kind == "pickle" and hasattr(self.results_, "get_forecast")
        )

    def _forecast(self, horizon: int, exog: np.ndarray | None, coverage: float | None) -> Any:
        kind, results = self.config["kind"], self.results_
        if kind in STATESPACE or (kind == "pickle" and hasattr(results, "get_forecast")):
            forecast = results.get_forecast(steps=horizon, exog=exog)
            bounds = forecast.conf_int(alpha=1 - coverage) if coverage else None
            return forecast.predicted_mean, bounds
        kwargs = {"exog": exog} if exog is not None else {}
        mean = results.forecast(steps=horizon, **kwargs)
        if not coverage:
            return mean, None
        # ETS: exact intervals for additive models, simulated otherwise (with a fixed seed, so
        # that the same request always gets the same answer).
        nobs = int(self.config["nobs"])
        prediction = results.get_prediction(start=nobs, end=nobs + horizon - 1, rng=0)
        return mean, prediction.summary_frame(alpha=1 - coverage)[["pi_lower", "pi_upper"]]

    def unload(self) -> None:
        self.results_ = None

    def metadata(self) -> dict[str, Any]:
        init = self.config.get("init", {})
        meta: dict[str, Any] = {
            "model_class": self.config["model_class"],
            "kind": self.config["kind"],
            "format": self.config["format"],
            "nobs": self.config["nobs"],
            "exog_names": list(self.config.get("exog_names") or []),
            "freq": (self.config.get("index") or {}).get("freq"),
            "statsmodels_version": self.config.get("statsmodels_version"),
        }
        for key in ("order", "seasonal_order", "trend", "seasonal", "seasonal_periods", "error"):
            if init.get(key) is not None:
                meta[key] = init[key]
        return meta


def _forecast_frame(mean: Any, bounds: Any, nobs: int) -> pd.DataFrame:
    values = np.asarray(mean, dtype=float)
    index = getattr(mean, "index", None)
    if isinstance(index, pd.PeriodIndex):
        time: Any = index.to_timestamp()
    elif isinstance(index, pd.Index):
        time = index
    else:
        time = np.arange(nobs, nobs + len(values))
    out = pd.DataFrame({"time": np.asarray(time), "forecast": values})
    if bounds is not None:
        bounds = np.asarray(bounds, dtype=float)
        out["lower"], out["upper"] = bounds[:, 0], bounds[:, 1]
    return out

"""Rebuilding fitted results from their specification, and checking that they forecast alike."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidModelError
from modelward.runtimes.statsmodels.common import (
    NATIVE_MODELS,
    STATESPACE,
    NotPortableError,
    quiet,
)
from modelward.runtimes.statsmodels.index import build_index
from modelward.runtimes.statsmodels.spec import ETS_INIT, HW_PARAMS

_CHECK_STEPS = 24  # two years of months: every monthly seasonal state is used


def rebuild(config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """Recreate the fitted results from a specification, without estimating anything."""
    if config.get("kind") not in NATIVE_MODELS:
        raise InvalidModelError(
            f"unknown statsmodels model kind {config.get('kind')!r} in the saved config",
            hint=f"this modelward knows {', '.join(NATIVE_MODELS)}; upgrade modelward",
        )
    module, name = NATIVE_MODELS[config["kind"]]
    cls = getattr(importlib.import_module(module), name)
    index = build_index(config["index"], arrays.get("index"))
    endog: Any = arrays["endog"]
    exog: Any = arrays.get("exog")
    if index is not None:
        endog = pd.Series(endog, index=index, name=config.get("endog_name"))
        if exog is not None:
            exog = pd.DataFrame(exog, index=index, columns=config["exog_names"])
    init = dict(config["init"])
    for key in ("order", "seasonal_order"):
        if isinstance(init.get(key), list):
            init[key] = tuple(init[key])
    with quiet():
        kind = config["kind"]
        if kind in STATESPACE:
            return cls(endog, exog=exog, **init).filter(arrays["params"])
        if kind == "ets":
            known = {k: v.item() if v.ndim == 0 else v for k, v in arrays.items() if k in ETS_INIT}
            return cls(endog, **init, **known).smooth(arrays["params"])
        return _rebuild_holtwinters(cls, endog, init, arrays)


def _rebuild_holtwinters(cls: Any, endog: Any, init: Mapping[str, Any], arrays: Any) -> Any:
    values = dict(zip(HW_PARAMS, (float(v) for v in arrays["hw_params"]), strict=True))
    model = cls(
        endog,
        trend=init["trend"],
        damped_trend=init["damped_trend"],
        seasonal=init["seasonal"],
        seasonal_periods=init["seasonal_periods"],
        initialization_method="known",
        initial_level=values["initial_level"],
        initial_trend=values["initial_trend"] if init["trend"] else None,
        initial_seasonal=arrays["initial_seasons"] if init["seasonal"] else None,
        use_boxcox=values["lamda"] if init["use_boxcox"] else False,
    )
    smoothing = {
        k: values[k]
        for k in ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
        if not np.isnan(values[k])
    }
    return model.fit(**smoothing, optimized=False, remove_bias=init["remove_bias"])


def check_rebuild(original: Any, config: Mapping[str, Any], arrays: Any) -> np.ndarray:
    """The original's reference forecasts, once the specification is shown to reproduce them."""
    kind = config["kind"]
    try:
        expected, index = reference_forecasts(original, kind, arrays)
        actual, rebuilt_index = reference_forecasts(rebuild(config, arrays), kind, arrays)
    except Exception as exc:  # whatever the rebuild cannot do is a reason to refuse it
        raise NotPortableError(f"it could not be rebuilt from its specification: {exc}") from exc
    if not same_values(expected, actual) or (index is not None and not index.equals(rebuilt_index)):
        raise NotPortableError(
            "rebuilding it from its specification does not reproduce its forecasts "
            "(it may have been extended, appended to or customised after fitting)"
        )
    return expected


def reference_forecasts(results: Any, kind: str, arrays: Any) -> tuple[np.ndarray, Any]:
    """A few forecasts (and their variances) that identify a fitted model, and their index."""
    exog = arrays.get("exog")
    future = np.repeat(exog[-1:], _CHECK_STEPS, axis=0) if exog is not None else None
    with quiet():
        if kind in STATESPACE:
            forecast = results.get_forecast(_CHECK_STEPS, exog=future)
            mean = forecast.predicted_mean
            rows = [np.asarray(mean, dtype=float), np.asarray(forecast.var_pred_mean, dtype=float)]
        else:
            mean = results.forecast(_CHECK_STEPS)
            rows = [np.asarray(mean, dtype=float)]
    return np.vstack(rows), getattr(mean, "index", None)


def same_values(a: Any, b: Any) -> bool:
    """Whether two sets of forecasts agree to within floating-point noise."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = float(np.nanmax(np.abs(x), initial=1.0))
    return x.shape == y.shape and np.allclose(x, y, rtol=1e-10, atol=1e-12 * scale, equal_nan=True)

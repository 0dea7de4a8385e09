"""Capturing a fitted model as a JSON-ready specification plus the arrays that rebuild it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from modelward.runtimes.statsmodels.common import (
    NATIVE_MODELS,
    STATESPACE,
    NotPortableError,
    exog_names,
    label,
)
from modelward.runtimes.statsmodels.index import index_spec, model_index

#: Holt-Winters parameters, in the order of the stored ``hw_params`` array.
HW_PARAMS = (
    "smoothing_level",
    "smoothing_trend",
    "smoothing_seasonal",
    "damping_trend",
    "initial_level",
    "initial_trend",
    "lamda",
)
#: ETS initial states, stored as arrays of their own when the model was given them.
ETS_INIT = ("initial_level", "initial_trend", "initial_seasonal")


def describe(kind: str, results: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON-ready specification and the arrays that rebuild ``results``."""
    model = results.model
    endog = np.asarray(model.data.endog, dtype=float)
    if endog.ndim == 2 and endog.shape[1] == 1:
        endog = endog[:, 0]
    if endog.ndim != 1:
        raise NotPortableError("only univariate series are stored natively")
    index = model_index(model)
    spec, index_values = index_spec(index)
    arrays = {"endog": endog}
    if index_values is not None:
        arrays["index"] = index_values
    names = exog_names(model)
    if names:
        raw = model._input_exog if kind == "arima" else model.data.orig_exog
        arrays["exog"] = np.asarray(raw, dtype=float).reshape(len(endog), len(names))
    if kind in STATESPACE:
        init = dict(model._get_init_kwds())  # statsmodels' own clone() rebuilds from these
        for key in ("exog", "dates", "freq", "missing"):
            init.pop(key, None)
        arrays["params"] = np.asarray(results.params, dtype=float)
    elif kind == "holtwinters":
        init, hw_arrays = _describe_holtwinters(model, results.params)
        arrays.update(hw_arrays)
    else:
        init, ets_arrays = _describe_ets(model)
        arrays.update(ets_arrays)
        arrays["params"] = np.asarray(results.params, dtype=float)
    module, name = NATIVE_MODELS[kind]
    config = {
        "kind": kind,
        "model_class": f"{module}.{name}",
        "init": _jsonable(init, "init"),
        "index": spec,
        "endog_name": label(getattr(model, "endog_names", None)),
        "exog_names": names,
        "nobs": len(endog),
    }
    return config, arrays


def _describe_holtwinters(model: Any, fitted: Mapping[str, Any]) -> tuple[dict[str, Any], dict]:
    boxcox = model._use_boxcox not in (None, False)
    init = {
        "trend": model.trend,
        "damped_trend": bool(model.damped_trend),
        "seasonal": model.seasonal,
        "seasonal_periods": int(model.seasonal_periods) if model.has_seasonal else None,
        "use_boxcox": boxcox,
        "remove_bias": bool(fitted["remove_bias"]),
    }
    values = [np.nan if fitted.get(k) is None else float(fitted[k]) for k in HW_PARAMS]
    if boxcox:
        values[-1] = float(model._lambda)
    arrays = {"hw_params": np.asarray(values, dtype=float)}
    if model.has_seasonal:
        arrays["initial_seasons"] = np.asarray(fitted["initial_seasons"], dtype=float)
    return init, arrays


def _describe_ets(model: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    init = {
        "error": model.error,
        "trend": model.trend,
        "damped_trend": bool(model.damped_trend),
        "seasonal": model.seasonal,
        "seasonal_periods": int(model.seasonal_periods) if model.has_seasonal else None,
        "initialization_method": model.initialization_method,
    }
    arrays = {}
    if model.initialization_method == "known":
        for key in ETS_INIT:
            if getattr(model, key) is not None:
                arrays[key] = np.asarray(getattr(model, key), dtype=float)
    return init, arrays


def _jsonable(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        return _jsonable(value.item(), where)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and np.isfinite(value):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    raise NotPortableError(f"its option {where} = {value!r} cannot be written as JSON")

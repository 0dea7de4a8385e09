"""statsmodels forecasters (ARIMA, SARIMAX, Holt-Winters, ETS), saved without pickle.

A fitted results object is stored as what it is made of: the model's constructor options
(``config.json``-ready), its fitted parameters and the training series with its index
(``model.npz``, plain arrays). Loading rebuilds the same model and runs its filter once with
the stored parameters, so nothing is re-estimated; ``save`` checks that the rebuilt model
forecasts exactly like the original before it writes anything. Any other statsmodels results
object can only be stored as a pickle, which needs the caller's explicit trust.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError, UntrustedContentError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.pickles import TRUST_HINT, load_pickle
from modelward.signatures import ColumnSpec, Signature, infer_columns

ARRAYS_FILE = "model.npz"
PICKLE_FILE = "results.pickle"
MAX_HORIZON = 100_000
_CHECK_STEPS = 24  # two years of months: every monthly seasonal state is used

#: kind -> (module, class) of the models rebuilt from their specification.
NATIVE_MODELS = {
    "arima": ("statsmodels.tsa.arima.model", "ARIMA"),
    "sarimax": ("statsmodels.tsa.statespace.sarimax", "SARIMAX"),
    "holtwinters": ("statsmodels.tsa.holtwinters.model", "ExponentialSmoothing"),
    "ets": ("statsmodels.tsa.exponential_smoothing.ets", "ETSModel"),
}
_STATESPACE = frozenset({"arima", "sarimax"})
_HW_PARAMS = (
    "smoothing_level",
    "smoothing_trend",
    "smoothing_seasonal",
    "damping_trend",
    "initial_level",
    "initial_trend",
    "lamda",
)
_ETS_INIT = ("initial_level", "initial_trend", "initial_seasonal")


class NotPortableError(Exception):
    """This results object cannot be rebuilt from a specification (internal; becomes a refusal)."""


def native_kind(obj: Any) -> str | None:
    """The kind of a fitted results object whose model is stored natively, else None."""
    model = getattr(obj, "model", None) if _is_results(obj) else None
    for kind, (module, name) in NATIVE_MODELS.items():
        loaded = sys.modules.get(module)  # not imported means obj cannot be one
        if loaded is not None and type(model) is getattr(loaded, name):  # subclasses differ
            return kind
    return None


def _is_results(obj: Any) -> bool:
    return type(obj).__module__.startswith("statsmodels.") and all(
        hasattr(obj, attr) for attr in ("model", "params", "forecast")
    )


class StatsmodelsFlavor(Flavor):
    name = "statsmodels"
    extra = "statsmodels"
    priority = 20
    packages = ("statsmodels", "numpy", "pandas")

    def detect(self, obj: Any) -> bool:
        return "statsmodels" in sys.modules and _is_results(obj)

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        sm = self.require("statsmodels")
        if not _is_results(obj):
            raise InvalidModelError(
                f"a {type(obj).__name__} is not a fitted statsmodels forecaster",
                hint="pass what model.fit() returned (ARIMA, SARIMAX, ExponentialSmoothing, ETS)",
            )
        kind = native_kind(obj)
        what = f"{type(obj.model).__module__}.{type(obj.model).__qualname__}"
        if kind is None:
            reason = "only ARIMA, SARIMAX, ExponentialSmoothing and ETSModel are stored natively"
            return self._save_pickle(obj, dest, options, what, reason)
        try:
            config, arrays = describe(kind, obj)
            arrays["reference"] = check_rebuild(obj, config, arrays)
        except NotPortableError as exc:
            return self._save_pickle(obj, dest, options, what, str(exc))
        np.savez(dest / ARRAYS_FILE, allow_pickle=False, **cast(dict[str, Any], arrays))
        config.update(format="native", file=ARRAYS_FILE, statsmodels_version=sm.__version__)
        names = _input_names(config["exog_names"], options.sample)
        config["exog_names"] = names
        return SavedModel(config, _signature(names, options.sample, config["index"]))

    def _save_pickle(
        self, obj: Any, dest: Path, options: SaveOptions, what: str, reason: str
    ) -> SavedModel:
        if not options.trust_pickle:
            raise UntrustedContentError(
                f"{what} results cannot be stored without pickle ({reason})", hint=TRUST_HINT
            )
        obj.save(str(dest / PICKLE_FILE))
        index = obj.model._index if hasattr(obj.model, "_index") else None
        config: dict[str, Any] = {
            "format": "pickle",
            "kind": "pickle",
            "file": PICKLE_FILE,
            "model_class": what,
            "exog_names": _exog_names(obj.model),
            "nobs": len(obj.model.data.orig_endog),
            "index": {"type": _index_type(index)},
        }
        names = _input_names(config["exog_names"], options.sample)
        config["exog_names"] = names
        return SavedModel(config, _signature(names, options.sample, config["index"]))

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return StatsmodelsRuntime(path, config)


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
        if "reference" in arrays and not _same_values(arrays["reference"], forecasts):
            raise InvalidModelError(
                f"the rebuilt {self.config['model_class']} model no longer forecasts what it "
                "did when it was registered",
                hint=hint,
            )
        self.results_ = results

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        names = list(self.config.get("exog_names") or [])
        horizon = _horizon(params.get("horizon"), len(frame) if names else None)
        coverage = _coverage(params.get("interval"))
        if coverage is not None and not self._gives_intervals():
            raise InvalidInputError(
                f"{self.config['model_class']} models give no prediction intervals",
                hint="drop the 'interval' parameter (ARIMA, SARIMAX and ETSModel give them)",
            )
        exog = _future_exog(frame, names) if names else None
        try:
            with _quiet():
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
        if kind in _STATESPACE or (kind == "pickle" and hasattr(results, "get_forecast")):
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


# --- describing and rebuilding ----------------------------------------------------------------
def describe(kind: str, results: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON-ready specification and the arrays that rebuild ``results``."""
    model = results.model
    endog = np.asarray(model.data.endog, dtype=float)
    if endog.ndim == 2 and endog.shape[1] == 1:
        endog = endog[:, 0]
    if endog.ndim != 1:
        raise NotPortableError("only univariate series are stored natively")
    index = _model_index(model)
    index_spec, index_values = _index_spec(index)
    arrays = {"endog": endog}
    if index_values is not None:
        arrays["index"] = index_values
    exog_names = _exog_names(model)
    if exog_names:
        raw = model._input_exog if kind == "arima" else model.data.orig_exog
        arrays["exog"] = np.asarray(raw, dtype=float).reshape(len(endog), len(exog_names))
    if kind in _STATESPACE:
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
        "index": index_spec,
        "endog_name": _label(getattr(model, "endog_names", None)),
        "exog_names": exog_names,
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
    values = [np.nan if fitted.get(k) is None else float(fitted[k]) for k in _HW_PARAMS]
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
        for key in _ETS_INIT:
            if getattr(model, key) is not None:
                arrays[key] = np.asarray(getattr(model, key), dtype=float)
    return init, arrays


def rebuild(config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """Recreate the fitted results from a specification, without estimating anything."""
    if config.get("kind") not in NATIVE_MODELS:
        raise InvalidModelError(
            f"unknown statsmodels model kind {config.get('kind')!r} in the saved config",
            hint=f"this modelward knows {', '.join(NATIVE_MODELS)}; upgrade modelward",
        )
    module, name = NATIVE_MODELS[config["kind"]]
    cls = getattr(importlib.import_module(module), name)
    index = _build_index(config["index"], arrays.get("index"))
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
    with _quiet():
        kind = config["kind"]
        if kind in _STATESPACE:
            return cls(endog, exog=exog, **init).filter(arrays["params"])
        if kind == "ets":
            known = {k: v.item() if v.ndim == 0 else v for k, v in arrays.items() if k in _ETS_INIT}
            return cls(endog, **init, **known).smooth(arrays["params"])
        return _rebuild_holtwinters(cls, endog, init, arrays)


def _rebuild_holtwinters(cls: Any, endog: Any, init: Mapping[str, Any], arrays: Any) -> Any:
    values = dict(zip(_HW_PARAMS, (float(v) for v in arrays["hw_params"]), strict=True))
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
    if not _same_values(expected, actual) or (
        index is not None and not index.equals(rebuilt_index)
    ):
        raise NotPortableError(
            "rebuilding it from its specification does not reproduce its forecasts "
            "(it may have been extended, appended to or customised after fitting)"
        )
    return expected


def reference_forecasts(results: Any, kind: str, arrays: Any) -> tuple[np.ndarray, Any]:
    """A few forecasts (and their variances) that identify a fitted model, and their index."""
    exog = arrays.get("exog")
    future = np.repeat(exog[-1:], _CHECK_STEPS, axis=0) if exog is not None else None
    with _quiet():
        if kind in _STATESPACE:
            forecast = results.get_forecast(_CHECK_STEPS, exog=future)
            mean = forecast.predicted_mean
            rows = [np.asarray(mean, dtype=float), np.asarray(forecast.var_pred_mean, dtype=float)]
        else:
            mean = results.forecast(_CHECK_STEPS)
            rows = [np.asarray(mean, dtype=float)]
    return np.vstack(rows), getattr(mean, "index", None)


def _same_values(a: Any, b: Any) -> bool:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = float(np.nanmax(np.abs(x), initial=1.0))
    return x.shape == y.shape and np.allclose(x, y, rtol=1e-10, atol=1e-12 * scale, equal_nan=True)


# --- series index -----------------------------------------------------------------------------
def _model_index(model: Any) -> pd.Index | None:
    """The index statsmodels dates forecasts with (None for a plain array)."""
    if getattr(model, "_index_dates", False) and not getattr(model, "_index_generated", True):
        return model._index
    labels = getattr(model.data, "row_labels", None)
    return labels if isinstance(labels, pd.Index) else None


def _index_type(index: Any) -> str:
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        return "datetime"
    return "integer"


def _index_spec(index: pd.Index | None) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    if index is None:
        return None, None
    spec: dict[str, Any] = {"name": _label(index.name)}
    if isinstance(index, pd.RangeIndex):
        spec.update(type="range", start=index.start, stop=index.stop, step=index.step)
        return spec, None
    if isinstance(index, pd.DatetimeIndex):
        tz = None if index.tz is None else str(index.tz)
        spec.update(type="datetime", unit=index.unit, tz=tz, freq=index.freqstr)
        return spec, index.asi8.copy()
    if isinstance(index, pd.PeriodIndex):
        spec.update(type="period", freq=index.freqstr)
        return spec, index.asi8.copy()
    if index.dtype.kind in "iu":
        spec.update(type="integer")
        return spec, index.to_numpy(dtype="int64")
    raise NotPortableError(
        f"its series index ({type(index).__name__}, {index.dtype}) is not "
        "dates, periods or integers"
    )


def _build_index(spec: Mapping[str, Any] | None, values: np.ndarray | None) -> pd.Index | None:
    if spec is None:
        return None
    name, kind = spec.get("name"), spec["type"]
    if kind == "range":
        return pd.RangeIndex(spec["start"], spec["stop"], spec["step"], name=name)
    if values is None:
        raise InvalidModelError(f"the saved model lacks the values of its {kind} index")
    if kind == "integer":
        return pd.Index(values.astype("int64"), name=name)
    if kind == "period":
        from_ordinals = pd.PeriodIndex.from_ordinals  # type: ignore[attr-defined]  # not in stubs
        return from_ordinals(values, freq=spec["freq"], name=name)
    stamps = pd.DatetimeIndex(values.astype(f"datetime64[{spec['unit']}]"), name=name)
    if spec.get("tz"):
        stamps = stamps.tz_localize("UTC").tz_convert(spec["tz"])
    return pd.DatetimeIndex(stamps, freq=spec["freq"]) if spec.get("freq") else stamps


# --- prediction helpers -----------------------------------------------------------------------
def _horizon(value: Any, rows: int | None) -> int:
    """Steps to forecast: ``horizon``, or the rows of future exog (``rows``; None without exog)."""
    if value is None:
        if rows is None:
            raise InvalidInputError(
                "missing prediction parameter 'horizon'",
                hint="pass horizon=<steps to forecast>, e.g. horizon=12",
            )
        if rows == 0:
            raise InvalidInputError(
                "this model needs future values of its exogenous columns, one row per step",
                hint="pass as many input rows as steps to forecast",
            )
        return _check_horizon(rows)
    if isinstance(value, bool):
        horizon = None
    elif isinstance(value, int | np.integer):
        horizon = int(value)
    elif isinstance(value, float) and value.is_integer():
        horizon = int(value)  # JSON numbers may arrive as 12.0
    elif isinstance(value, str) and value.strip().isdigit():
        horizon = int(value.strip())  # query strings and CLI options
    else:
        horizon = None
    if horizon is None:
        raise InvalidInputError(
            f"'horizon' must be a whole number of steps, got {value!r}", hint="e.g. horizon=12"
        )
    if rows is not None and horizon != rows:
        raise InvalidInputError(
            f"'horizon' is {horizon} but the input has {rows} rows of future exogenous values",
            hint="give one input row per step to forecast, or drop 'horizon'",
        )
    return _check_horizon(horizon)


def _check_horizon(horizon: int) -> int:
    if not 1 <= horizon <= MAX_HORIZON:
        raise InvalidInputError(
            f"'horizon' must be between 1 and {MAX_HORIZON} steps, got {horizon}",
            hint="with exogenous columns, give one input row per step to forecast",
        )
    return horizon


def _coverage(value: Any) -> float | None:
    if value is None:
        return None
    try:
        coverage = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        coverage = None
    if coverage is None or not 0 < coverage < 1:
        raise InvalidInputError(
            f"'interval' must be a coverage between 0 and 1, got {value!r}",
            hint="e.g. interval=0.95 for a 95% prediction interval",
        )
    return coverage


def _future_exog(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"missing future exogenous column(s): {', '.join(map(repr, missing))}",
            hint=f"this model needs {', '.join(names)} for every step to forecast",
        )
    columns = []
    for name in names:
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            example = frame[name][bad].iloc[0]
            raise InvalidInputError(f"exogenous column {name!r} must be numeric, got {example!r}")
        if values.isna().any():
            raise InvalidInputError(
                f"exogenous column {name!r} has {int(values.isna().sum())} missing value(s)",
                hint="forecasts need every future exogenous value",
            )
        columns.append(values.to_numpy(dtype=float))
    return np.column_stack(columns)


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


# --- small helpers ----------------------------------------------------------------------------
def _exog_names(model: Any) -> list[str]:
    """The exogenous columns the caller gave (ARIMA's trend columns are not theirs)."""
    names = getattr(model, "_input_exog_names", None) if hasattr(model, "_input_exog") else None
    if names is None and getattr(model.data, "orig_exog", None) is not None:
        exog = model.data.orig_exog
        names = list(exog.columns) if isinstance(exog, pd.DataFrame) else model.exog_names
    return [str(n) for n in names or []]


def _input_names(exog_names: list[str], sample: pd.DataFrame | None) -> list[str]:
    """Exog names, renamed from the sample when it has exactly as many (unnamed) columns."""
    if sample is None or not exog_names or set(exog_names) <= set(map(str, sample.columns)):
        return exog_names
    if len(sample.columns) == len(exog_names):
        return [str(c) for c in sample.columns]
    raise InvalidInputError(
        f"the sample has columns {list(sample.columns)} but the model has "
        f"{len(exog_names)} exogenous regressors ({', '.join(exog_names)})",
        hint="pass a sample of the exogenous columns only, in the order the model was fitted with",
    )


def _signature(names: list[str], sample: pd.DataFrame | None, index: Any) -> Signature:
    if names and sample is not None:
        frame = sample.rename(columns=str)
        inputs = infer_columns(frame[names])
    else:
        inputs = tuple(ColumnSpec(name=n, type="double", nullable=False) for n in names)
    time_type = "long"
    if index and index.get("type") in ("datetime", "period"):
        time_type = "datetime"
    outputs = (
        ColumnSpec(name="time", type=time_type, nullable=False),
        ColumnSpec(name="forecast", type="double"),
    )
    return Signature(inputs, outputs)


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


def _label(name: Any) -> str | None:
    return name if isinstance(name, str) else None


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence what statsmodels warns about a model that was validated when it was saved."""
    from statsmodels.tools.sm_exceptions import ValueWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValueWarning)  # frequency inference, unsupported index
        warnings.simplefilter("ignore", FutureWarning)
        yield

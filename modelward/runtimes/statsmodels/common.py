"""The statsmodels models stored natively, and the small helpers the flavor's modules share."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

#: kind -> (module, class) of the models rebuilt from their specification.
NATIVE_MODELS = {
    "arima": ("statsmodels.tsa.arima.model", "ARIMA"),
    "sarimax": ("statsmodels.tsa.statespace.sarimax", "SARIMAX"),
    "holtwinters": ("statsmodels.tsa.holtwinters.model", "ExponentialSmoothing"),
    "ets": ("statsmodels.tsa.exponential_smoothing.ets", "ETSModel"),
}
STATESPACE = frozenset({"arima", "sarimax"})


class NotPortableError(Exception):
    """This results object cannot be rebuilt from a specification (internal; becomes a refusal)."""


def native_kind(obj: Any) -> str | None:
    """The kind of a fitted results object whose model is stored natively, else None."""
    model = getattr(obj, "model", None) if is_results(obj) else None
    for kind, (module, name) in NATIVE_MODELS.items():
        loaded = sys.modules.get(module)  # not imported means obj cannot be one
        if loaded is not None and type(model) is getattr(loaded, name):  # subclasses differ
            return kind
    return None


def is_results(obj: Any) -> bool:
    """Whether ``obj`` looks like a fitted statsmodels results object."""
    return type(obj).__module__.startswith("statsmodels.") and all(
        hasattr(obj, attr) for attr in ("model", "params", "forecast")
    )


def exog_names(model: Any) -> list[str]:
    """The exogenous columns the caller gave (ARIMA's trend columns are not theirs)."""
    names = getattr(model, "_input_exog_names", None) if hasattr(model, "_input_exog") else None
    if names is None and getattr(model.data, "orig_exog", None) is not None:
        exog = model.data.orig_exog
        names = list(exog.columns) if isinstance(exog, pd.DataFrame) else model.exog_names
    return [str(n) for n in names or []]


def label(name: Any) -> str | None:
    """``name`` when it is a string (a JSON-ready series or index name), else None."""
    return name if isinstance(name, str) else None


@contextmanager
def quiet() -> Iterator[None]:
    """Silence what statsmodels warns about a model that was validated when it was saved."""
    from statsmodels.tools.sm_exceptions import ValueWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValueWarning)  # frequency inference, unsupported index
        warnings.simplefilter("ignore", FutureWarning)
        yield

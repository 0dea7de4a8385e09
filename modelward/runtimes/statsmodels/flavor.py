"""The statsmodels flavor: saves fitted forecasters natively, or as a trusted pickle."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError, UntrustedContentError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.pickles import TRUST_HINT
from modelward.runtimes.statsmodels.common import (
    NotPortableError,
    exog_names,
    is_results,
    native_kind,
)
from modelward.runtimes.statsmodels.index import index_type
from modelward.runtimes.statsmodels.rebuild import check_rebuild
from modelward.runtimes.statsmodels.runtime import StatsmodelsRuntime
from modelward.runtimes.statsmodels.spec import describe
from modelward.signatures import ColumnSpec, Signature, infer_columns

ARRAYS_FILE = "model.npz"
PICKLE_FILE = "results.pickle"


class StatsmodelsFlavor(Flavor):
    name = "statsmodels"
    extra = "statsmodels"
    priority = 20
    packages = ("statsmodels", "numpy", "pandas")

    def detect(self, obj: Any) -> bool:
        return "statsmodels" in sys.modules and is_results(obj)

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        sm = self.require("statsmodels")
        if not is_results(obj):
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
            "exog_names": exog_names(obj.model),
            "nobs": len(obj.model.data.orig_endog),
            "index": {"type": index_type(index)},
        }
        names = _input_names(config["exog_names"], options.sample)
        config["exog_names"] = names
        return SavedModel(config, _signature(names, options.sample, config["index"]))

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return StatsmodelsRuntime(path, config)


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

"""The training series' index, encoded as a JSON-ready spec plus plain values, and rebuilt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidModelError
from modelward.runtimes.statsmodels.common import NotPortableError, label


def model_index(model: Any) -> pd.Index | None:
    """The index statsmodels dates forecasts with (None for a plain array)."""
    if getattr(model, "_index_dates", False) and not getattr(model, "_index_generated", True):
        return model._index
    labels = getattr(model.data, "row_labels", None)
    return labels if isinstance(labels, pd.Index) else None


def index_type(index: Any) -> str:
    """``datetime`` for a date or period index, else ``integer``."""
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        return "datetime"
    return "integer"


def index_spec(index: pd.Index | None) -> tuple[dict[str, Any] | None, np.ndarray | None]:
    """The JSON-ready description of ``index`` and the values to store beside it, if any."""
    if index is None:
        return None, None
    spec: dict[str, Any] = {"name": label(index.name)}
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


def build_index(spec: Mapping[str, Any] | None, values: np.ndarray | None) -> pd.Index | None:
    """The index that :func:`index_spec` described (None when there was none)."""
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

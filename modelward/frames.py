"""Turning what callers hand over (frames, dicts, records, arrays) into one DataFrame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidDataError


def as_frame(data: Any, *, default_name: str = "feature") -> pd.DataFrame:
    """Turn a DataFrame, Series, dict of columns, list of records or array into a DataFrame."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame(name=data.name if data.name is not None else default_name)
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(dict(data))
    elif isinstance(data, np.ndarray):
        if data.ndim == 1:
            frame = pd.DataFrame({default_name: data})
        elif data.ndim == 2:
            frame = pd.DataFrame(
                data, columns=[f"{default_name}_{i}" for i in range(data.shape[1])]
            )
        else:
            raise InvalidDataError(f"expected a 1-D or 2-D array, got {data.ndim} dimensions")
    elif isinstance(data, list) and (not data or isinstance(data[0], Mapping)):
        frame = pd.DataFrame.from_records(data)
    elif isinstance(data, list | tuple):
        return as_frame(np.asarray(data), default_name=default_name)
    else:
        raise InvalidDataError(
            f"cannot read {type(data).__name__} as a table",
            hint="pass a pandas DataFrame, a dict of columns, a list of records or a 2-D array",
        )
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    return frame

"""Checks of a forecast request: its horizon, interval coverage and future exogenous values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError

MAX_HORIZON = 100_000


def horizon_steps(value: Any, rows: int | None) -> int:
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


def interval_coverage(value: Any) -> float | None:
    """The ``interval`` parameter as a coverage strictly between 0 and 1 (None when absent)."""
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


def future_exog(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The future exogenous values of ``frame``, numeric and complete, in the model's order."""
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

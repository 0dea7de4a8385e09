"""Turn what the caller handed over (object, file or folder) into a saved model folder."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError, ModelwardError
from modelward.frames import as_frame
from modelward.runtimes.base import Flavor, SavedModel, SaveOptions
from modelward.runtimes.flavors import available_flavors, detect_flavor, get_flavor, sniff_flavor
from modelward.runtimes.pickles import is_pickle_file, load_pickle
from modelward.signatures import Signature, infer_columns

EXAMPLE_ROWS = 5


def save_model(
    model_or_path: Any, dest: Path, flavor_name: str | None, options: SaveOptions
) -> tuple[Flavor, SavedModel]:
    """Write the model into the empty folder ``dest`` with the right flavor."""
    flavor = get_flavor(flavor_name) if flavor_name else None
    if isinstance(model_or_path, str | Path):
        path = Path(model_or_path).expanduser()
        if not path.exists():
            raise InvalidInputError(f"no such file or folder: {path}", hint="check the model path")
        path = path.resolve()
        if is_pickle_file(path):
            obj = load_pickle(path, trusted=options.trust_pickle)
            flavor = flavor or detect_flavor(obj)
            return flavor, flavor.save(obj, dest, options)
        flavor = flavor or sniff_flavor(path)
        if flavor is None:
            raise InvalidModelError(
                f"{path.name} is not a model file modelward recognises",
                hint="known flavors: "
                + ", ".join(available_flavors())
                + "; pass --flavor if one fits",
            )
        return flavor, _guarded(flavor, lambda: flavor.import_path(path, dest, options))
    flavor = flavor or detect_flavor(model_or_path)
    if not flavor.detect(model_or_path):
        raise InvalidModelError(
            f"the {flavor.name} flavor cannot save a {type(model_or_path).__name__}",
            hint="leave the flavor out to have it detected",
        )
    return flavor, _guarded(flavor, lambda: flavor.save(model_or_path, dest, options))


def _guarded(flavor: Flavor, work: Any) -> SavedModel:
    try:
        saved: SavedModel = work()
    except ModelwardError:
        raise
    except Exception as exc:  # a library failing on a file that is not what it claims to be
        raise InvalidModelError(
            f"the {flavor.name} flavor could not read the model: {exc}"
        ) from exc
    return saved


def check_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    """Metrics as finite floats; anything else is refused with the offending names."""
    out: dict[str, float] = {}
    bad = []
    for key, value in (metrics or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            bad.append(f"{key}={value!r}")
            continue
        if not math.isfinite(number):
            bad.append(f"{key}={value!r}")
            continue
        out[str(key)] = number
    if bad:
        raise InvalidInputError(f"metrics must be finite numbers: {', '.join(bad)}")
    return out


def check_json(what: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    """A mapping that survives JSON unchanged in meaning."""
    data = dict(value or {})
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} must be JSON-serialisable: {exc}") from exc
    return {str(k): v for k, v in data.items()}


def example_records(sample: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """The first rows of the sample, JSON-ready (NaN → null, times in ISO 8601)."""
    if sample is None or sample.empty:
        return None
    records: list[dict[str, Any]] = json.loads(
        sample.head(EXAMPLE_ROWS).to_json(orient="records", date_format="iso")
    )
    return records


def choose_signature(
    given: Signature | Mapping[str, Any] | None,
    declared: Signature | None,
    sample: pd.DataFrame | None,
) -> Signature | None:
    """Explicit signature first, then the one the model declares, then one inferred from the sample."""
    if given is not None:
        return given if isinstance(given, Signature) else Signature.from_dict(given)
    if declared is not None:
        return declared
    if sample is not None:
        return Signature(infer_columns(sample))
    return None


def sample_frame(input_example: Any) -> pd.DataFrame | None:
    """The input example as a frame, if given."""
    return None if input_example is None else as_frame(input_example)

"""The runtime contract: every flavor saves models into a folder and loads them back the same way.

A :class:`Flavor` knows how to recognise a model (an object in memory or a file on disk) and
write it into a folder, returning a small JSON-ready config. A :class:`Runtime` is that folder
loaded back: ``load()``, ``predict(frame, params)``, ``unload()`` and ``metadata()``.
Constructors only store their arguments; work happens in ``load``.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, MissingDependencyError
from modelward.signatures import Signature


@dataclass(frozen=True)
class SaveOptions:
    """What the caller allowed and gave when saving a model."""

    trust_pickle: bool = False
    sample: pd.DataFrame | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SavedModel:
    """What a flavor wrote: its config, and a signature when the model declares its own."""

    config: dict[str, Any]
    signature: Signature | None = None


class Runtime(abc.ABC):
    """A model of one flavor, loaded from its folder."""

    #: Prediction parameters this runtime accepts, with a one-line description of each.
    params: ClassVar[Mapping[str, str]] = {}

    def __init__(self, path: Path, config: Mapping[str, Any]) -> None:
        self.path = path
        self.config = dict(config)

    @abc.abstractmethod
    def load(self) -> None:
        """Read the model from ``self.path`` into memory; called once before ``predict``."""

    @abc.abstractmethod
    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        """Score ``frame`` (columns in signature order); one output row per input row.

        Time-series runtimes are the exception: they return ``horizon`` rows of forecasts.
        """

    def predict_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        """Score named 1-D columns (signature order, already checked): the serving hot path.

        The default goes through a DataFrame and :meth:`predict`; flavors whose models take a
        plain matrix override it to skip pandas.
        """
        frame = pd.DataFrame({name: pd.Series(array) for name, array in columns.items()})
        out = self.predict(frame, params)
        return {str(name): out[name].to_numpy() for name in out.columns}

    def unload(self) -> None:  # noqa: B027 - optional hook with a sensible default
        """Release what ``load`` took (memory, sessions, child processes)."""

    def metadata(self) -> dict[str, Any]:
        """Facts about the loaded model (framework, classes, inputs the model itself declares)."""
        return {}

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Refuse prediction parameters this runtime does not know."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            accepted = ", ".join(sorted(self.params)) or "none"
            raise InvalidInputError(
                f"unknown prediction parameter(s): {', '.join(unknown)}",
                hint=f"this model accepts: {accepted}",
            )


class Flavor(abc.ABC):
    """How one kind of model is recognised, saved and turned into a :class:`Runtime`."""

    name: ClassVar[str]
    #: Distributions whose versions are recorded in a version's lineage.
    packages: ClassVar[tuple[str, ...]] = ()
    #: The ``modelward[...]`` extra that installs what this flavor needs.
    extra: ClassVar[str | None] = None
    #: Lower runs first when guessing a flavor for an object (specific before generic).
    priority: ClassVar[int] = 100

    def detect(self, obj: Any) -> bool:
        """True when ``obj`` (in memory) is a model this flavor can save."""
        return False

    def sniff(self, path: Path) -> bool:
        """True when the file or folder at ``path`` is a model this flavor can import."""
        return False

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        """Write the in-memory model ``obj`` into the empty folder ``dest``."""
        raise InvalidInputError(f"the {self.name} flavor cannot save {type(obj).__name__} objects")

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        """Copy or convert the model file/folder at ``path`` into the empty folder ``dest``."""
        raise InvalidInputError(
            f"the {self.name} flavor cannot import files", hint="pass the object"
        )

    @abc.abstractmethod
    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        """A (not yet loaded) runtime for a folder this flavor wrote."""

    def require(self, module: str) -> ModuleType:
        """Import ``module`` or say which extra installs it."""
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            extra = (
                f"pip install 'modelward[{self.extra}]'" if self.extra else f"pip install {module}"
            )
            raise MissingDependencyError(
                f"the {self.name} flavor needs the Python package {module!r}, which is not installed",
                hint=extra,
            ) from exc


def output_frame(result: Any, names: list[str] | None = None) -> pd.DataFrame:
    """Normalise what a model returned into a frame (``prediction`` for a single column)."""
    if isinstance(result, pd.DataFrame):
        return result.reset_index(drop=True)
    if isinstance(result, pd.Series):
        # A Series' name is usually an accident of pandas arithmetic (the input column it came
        # from), so a single output is always "prediction"; return a DataFrame to name columns.
        return pd.DataFrame({(names or ["prediction"])[0]: result.to_numpy()})
    arr = np.asarray(result)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1:
        return pd.DataFrame({(names or ["prediction"])[0]: arr})
    if arr.ndim == 2:
        if arr.shape[1] == 1:
            return pd.DataFrame({(names or ["prediction"])[0]: arr[:, 0]})
        cols = (
            names
            if names and len(names) == arr.shape[1]
            else [f"prediction_{i}" for i in range(arr.shape[1])]
        )
        return pd.DataFrame(arr, columns=cols)
    raise InvalidInputError(f"the model returned a {arr.ndim}-D result; expected one row per input")


def class_probabilities(proba: np.ndarray, classes: Any) -> pd.DataFrame:
    """Probability columns named ``probability_<class>``."""
    return pd.DataFrame(np.asarray(proba), columns=[f"probability_{c}" for c in list(classes)])


def numeric_matrix(columns: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The columns as one 2-D float matrix, or ``None`` when one of them is not numeric."""
    arrays = list(columns.values())
    if not arrays or any(a.dtype.kind not in "iufb" for a in arrays):
        return None
    return np.column_stack(arrays)


def matrix_outputs(
    predictions: np.ndarray, proba: np.ndarray | None, classes: Any
) -> dict[str, np.ndarray]:
    """Output columns of a matrix model, named as :func:`output_frame` names them (no pandas)."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 2 and predictions.shape[1] == 1:
        predictions = predictions[:, 0]
    if predictions.ndim == 1:
        out = {"prediction": predictions}
    else:
        out = {f"prediction_{i}": predictions[:, i] for i in range(predictions.shape[1])}
    if proba is not None:
        for i, c in enumerate(list(classes)):
            out[f"probability_{c}"] = proba[:, i]
    return out

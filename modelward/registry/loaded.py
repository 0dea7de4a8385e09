"""A model version loaded for scoring: its runtime plus the signature check in front of it."""

from __future__ import annotations

import shutil
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from modelward.columns import conform_columns
from modelward.frames import as_frame
from modelward.runtimes.base import Runtime
from modelward.store.entities import ModelVersion


class LoadedModel:
    """What :func:`modelward.load_model` returns: ``predict(data, **params)`` and ``metadata``."""

    def __init__(self, version: ModelVersion, runtime: Runtime, workdir: Path) -> None:
        self.version = version
        self.runtime = runtime
        self._cleanup = weakref.finalize(self, shutil.rmtree, workdir, True)

    def predict(self, data: Any = None, /, **params: Any) -> pd.DataFrame:
        """Score ``data`` (DataFrame, dict of columns, records or array) after checking it."""
        frame = pd.DataFrame() if data is None else as_frame(data)
        return self.score(frame, params)

    def score(
        self, frame: pd.DataFrame, params: Mapping[str, Any], *, row_offset: int = 0
    ) -> pd.DataFrame:
        """Check ``frame`` against the signature (rows numbered from ``row_offset``), then score."""
        signature = self.version.signature
        if signature is not None:
            frame = signature.conform(frame, row_offset=row_offset)
        return self.runtime.predict(frame, params)

    def score_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any], *, row_offset: int = 0
    ) -> dict[str, np.ndarray]:
        """Check named numpy columns against the signature, then score them without pandas
        where the flavor allows (the serving hot path)."""
        signature = self.version.signature
        if signature is not None:
            columns = conform_columns(signature, columns, row_offset=row_offset)
        return self.runtime.predict_columns(columns, params)

    @property
    def metadata(self) -> dict[str, Any]:
        """Name, version, digest, flavor, signature, lineage and what the runtime reports."""
        v = self.version
        return {
            "name": v.name,
            "version": v.version,
            "digest": v.digest,
            "flavor": v.flavor,
            "signature": v.signature.to_dict() if v.signature else None,
            "metrics": v.metrics,
            "lineage": v.lineage,
            "runtime": self.runtime.metadata(),
        }

    def unload(self) -> None:
        """Free the runtime and its unpacked files."""
        try:
            self.runtime.unload()
        finally:
            self._cleanup()

    def __enter__(self) -> LoadedModel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unload()

    def __repr__(self) -> str:
        return f"<LoadedModel {self.version.ref} flavor={self.version.flavor}>"

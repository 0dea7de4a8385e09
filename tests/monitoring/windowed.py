"""A registered model with a reference profile, and traffic written through the real log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from modelward.client import Client
from modelward.monitoring.inference_log import InferenceLog, inference_root
from modelward.monitoring.records import InferenceRecord
from modelward.runtimes.python import PythonModel

HOUR0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MODEL_CODE = (
    "class M:\n    def predict(self, frame):\n        return (frame['age'] > 40).astype(int)\n"
)


def population(rows: int, *, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Ages, incomes and a segment; ``shift`` moves the ages and makes segment C common."""
    rng = np.random.default_rng(seed)
    segments = ["A", "B", "C"]
    weights = [0.5, 0.4, 0.1] if not shift else [0.2, 0.3, 0.5]
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 9, rows),
            "income": rng.gamma(2.0, 20_000.0, rows),
            "segment": rng.choice(segments, rows, p=weights).astype(object),
        }
    )


def register(client: Client, tmp_path: Path, name: str = "loans") -> int:
    (tmp_path / "m.py").write_text(MODEL_CODE)
    train = population(5000, seed=1)
    version = client.register_model(
        PythonModel("m:M", code=[tmp_path / "m.py"]),
        name,
        input_example=train.head(5),
        training_data=train,
    )
    return version.version


def traffic(
    home: Path,
    frame: pd.DataFrame,
    *,
    hour: datetime,
    model: str = "loans",
    version: int = 1,
    per_request: int = 50,
    status: int = 200,
    prefix: str = "r",
) -> list[str]:
    """Write ``frame`` as requests of ``per_request`` rows inside ``hour``; returns the ids."""
    log = InferenceLog(inference_root(home))
    log.start()
    ids = []
    try:
        for i, start in enumerate(range(0, len(frame), per_request)):
            part = frame.iloc[start : start + per_request]
            rid = f"{prefix}-{hour:%H}-{i}"
            inputs = {c: part[c].to_numpy() for c in part.columns}
            outputs = (
                {"prediction": (part["age"] > 40).to_numpy().astype(np.int64)}
                if status == 200
                else {}
            )
            log.record(
                InferenceRecord(
                    request_id=rid,
                    time=hour + timedelta(seconds=i),
                    model=model,
                    version=version,
                    status=status,
                    latency_ms=2.0,
                    inputs=inputs,
                    outputs=outputs,
                )
            )
            ids.append(rid)
    finally:
        log.close()
    return ids

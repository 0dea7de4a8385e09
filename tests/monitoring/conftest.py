"""Helpers for the inference log tests: records, a started log, reading the Parquet back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelward.monitoring.inference_log import InferenceLog, inference_root
from modelward.monitoring.records import InferenceRecord

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_record(
    i: int = 0,
    *,
    model: str = "churn",
    day: int = 0,
    rows: int = 2,
    error: str | None = None,
) -> InferenceRecord:
    """A scored request with ``rows`` rows of numeric, string and boolean inputs."""
    inputs: dict[str, np.ndarray] = {}
    outputs: dict[str, np.ndarray] = {}
    if rows:
        inputs = {
            "age": np.arange(rows, dtype=np.int64) + i,
            "income": np.linspace(0.5, 1.5, rows),
            "city": np.array([f"c{i}-{r}" for r in range(rows)], dtype=object),
        }
        if error is None:
            outputs = {"score": np.full(rows, 0.25), "churned": np.zeros(rows, dtype=bool)}
    return InferenceRecord(
        request_id=f"{model}-{i}",
        time=T0 + timedelta(days=day, seconds=i),
        model=model,
        version=3,
        status=500 if error else 200,
        latency_ms=1.5,
        inputs=inputs,
        outputs=outputs,
        error=error,
        protocol="oip",
    )


def read_log(root: Path) -> pa.Table:
    """Every Parquet file of the log, stacked (no hive columns)."""
    files = sorted(root.glob("model=*/date=*/*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")


@pytest.fixture
def root(mw_home: Path) -> Path:
    """The inference log folder of this test's MODELWARD_HOME."""
    return inference_root(mw_home)


@pytest.fixture
def started(root: Path) -> Iterator[InferenceLog]:
    """A started log that flushes often; closed (if still open) after the test."""
    log = InferenceLog(root, flush_interval=0.02)
    log.start()
    yield log
    log.close()

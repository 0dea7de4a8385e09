"""How the scoring server runs (the options of ``modelward serve``)."""

from __future__ import annotations

from dataclasses import dataclass

from modelward.scoring.batching import BatchConfig
from modelward.scoring.pool import PoolConfig

#: Flavors whose outputs are one row per input row, so concurrent requests may be merged.
ROW_WISE_FLAVORS = frozenset(
    {"sklearn", "xgboost", "lightgbm", "onnx", "pmml", "rules", "mlflow", "process"}
)


@dataclass(frozen=True)
class ServeConfig:
    """Server-wide settings; per-model pools and batchers are derived from them."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1  # HTTP worker processes
    model_workers: int = 1  # worker processes per model, per HTTP worker
    max_batch_size: int = 64
    max_batch_time_ms: float = 0.0
    max_queue: int = 1024
    request_timeout: float = 30.0
    memory_limit_mb: int | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    inference_log: bool = True
    isolation: str = "process"  # or "none": models scored inside the HTTP process

    def pool(self) -> PoolConfig:
        """The pool settings of one model."""
        return PoolConfig(
            workers=self.model_workers,
            request_timeout=self.request_timeout,
            memory_limit_mb=self.memory_limit_mb,
            in_process=self.isolation == "none",
        )

    def batching(self, flavor: str) -> BatchConfig:
        """The batching settings of one model of ``flavor``."""
        return BatchConfig(
            max_batch_size=self.max_batch_size,
            max_batch_time_ms=self.max_batch_time_ms,
            max_queue=self.max_queue,
            row_wise=flavor in ROW_WISE_FLAVORS,
        )

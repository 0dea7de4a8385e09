"""Prometheus metrics of the scoring server (one registry per app; multi-process aware)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (
    0.0002,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Metrics:
    """Every series the server exports; names are documented in docs/serving.md."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "modelward_requests",
            "Requests answered, by model, version, protocol and HTTP status",
            ["model", "version", "protocol", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "modelward_request_latency_seconds",
            "Time from request received to answer sent",
            ["model", "version"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "modelward_batch_rows",
            "Rows per predict call after adaptive batching",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.inflight = Gauge(
            "modelward_inflight_requests",
            "Requests being scored now",
            ["model"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.restarts = Counter(
            "modelward_worker_restarts",
            "Model worker processes restarted after a failure",
            ["model"],
            registry=r,
        )
        self.load_seconds = Gauge(
            "modelward_model_load_seconds",
            "Time to load the model in its worker",
            ["model", "version"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.worker_cpu = Gauge(
            "modelward_worker_cpu_seconds",
            "CPU seconds used by a model worker process",
            ["model", "worker"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.worker_rss = Gauge(
            "modelward_worker_rss_bytes",
            "Resident memory of a model worker process",
            ["model", "worker"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.schema_violations = Counter(
            "modelward_schema_violations",
            "Requests refused because they broke the signature",
            ["model"],
            registry=r,
        )
        self.log_spilled = Gauge(
            "modelward_inference_log_spilled",
            "Inference records written to the spill file",
            registry=r,
            multiprocess_mode="livesum",
        )

    def render(self) -> bytes:
        """The exposition text (merged across HTTP workers in multi-process mode)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)

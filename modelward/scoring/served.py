"""The models one server serves: their versions, worker pools, batchers and readiness."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from modelward.errors import ModelNotFoundError, ModelNotReadyError, VersionNotFoundError
from modelward.scoring.batching import Batcher
from modelward.scoring.config import ServeConfig
from modelward.scoring.metrics import Metrics
from modelward.scoring.pool import ModelPool
from modelward.signatures import Signature
from modelward.store.entities import ModelVersion

log = logging.getLogger("modelward.scoring")


@dataclass
class ServedModel:
    """One model version behind the server."""

    version: ModelVersion
    pool: ModelPool
    batcher: Batcher
    state: str = "loading"  # loading → ready | failed
    error: str | None = None

    @property
    def name(self) -> str:
        return self.version.name

    @property
    def number(self) -> str:
        return str(self.version.version)

    @property
    def signature(self) -> Signature | None:
        return self.version.signature

    def check_ready(self) -> None:
        """Raise 503 unless the model can answer."""
        if self.state != "ready":
            detail = f": {self.error}" if self.error else " (still loading)"
            raise ModelNotReadyError(
                f"model {self.name}/{self.number} is not ready{detail}",
                hint="retry shortly; GET /v2/models/{name}/ready tells when it is",
            )


@dataclass
class Catalog:
    """Served models by name and version; a bare name means the first version listed for it."""

    models: list[ServedModel] = field(default_factory=list)

    @classmethod
    def build(cls, versions: list[ModelVersion], config: ServeConfig, metrics: Metrics) -> Catalog:
        """Pools and batchers (not started) for the given versions."""
        served = []
        for version in versions:
            pool = ModelPool(
                version.ref, config.pool(), on_restart=metrics.restarts.labels(version.name).inc
            )
            batcher = Batcher(
                pool,
                config.batching(version.flavor),
                on_batch=metrics.batch_size.labels(version.name).observe,
            )
            served.append(ServedModel(version, pool, batcher))
        return cls(served)

    def find(self, name: str, version: str | None = None) -> ServedModel | None:
        """The served model for a name (and version), or ``None``."""
        for model in self.models:
            if model.name == name and (version is None or model.number == version):
                return model
        return None

    def versions_of(self, name: str) -> list[str]:
        """Version numbers served under ``name``."""
        return [m.number for m in self.models if m.name == name]

    def require(self, name: str, version: str | None = None) -> ServedModel:
        """Like :meth:`find`, but 404 with the list of what is served."""
        model = self.find(name, version)
        if model is not None:
            return model
        served = ", ".join(f"{m.name}/{m.number}" for m in self.models) or "nothing"
        if self.versions_of(name):
            raise VersionNotFoundError(
                f"version {version} of model {name!r} is not served here",
                hint=f"served: {served}",
            )
        raise ModelNotFoundError(f"model {name!r} is not served here", hint=f"served: {served}")

    @property
    def ready(self) -> bool:
        return all(m.state == "ready" for m in self.models)

    async def start(self, metrics: Metrics) -> None:
        """Start every model's workers concurrently; a model that fails stays 'failed'."""

        async def start_one(model: ServedModel) -> None:
            try:
                await model.pool.start()
            except Exception as exc:  # one broken model must not stop the others
                model.state, model.error = "failed", str(exc)
                log.error("model %s failed to start: %s", model.version.ref, exc)
                return
            model.batcher.start()
            model.state = "ready"
            metrics.load_seconds.labels(model.name, model.number).set(model.pool.load_seconds)

        await asyncio.gather(*(start_one(m) for m in self.models))

    async def close(self) -> None:
        """Finish running batches, then stop every worker."""
        await asyncio.gather(*(m.batcher.close() for m in self.models), return_exceptions=True)
        await asyncio.gather(*(m.pool.close() for m in self.models), return_exceptions=True)

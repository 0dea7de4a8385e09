"""The scoring ASGI app: Open Inference Protocol v2, MLflow ``/invocations``, health, metrics.

Routes are thin: decode with a codec, check against the signature, hand the columns to the
model's batcher, encode the answer, record it in the inference log (off the hot path).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np

import modelward
from modelward.columns import conform_columns
from modelward.errors import InvalidInputError, ModelwardError, SignatureViolationError
from modelward.governance.privacy import protect
from modelward.monitoring.inference_log import InferenceRecord
from modelward.scoring import codecs
from modelward.scoring.config import ServeConfig
from modelward.scoring.http import (
    Answer,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    request_id,
    send_answer,
)
from modelward.scoring.metrics import Metrics
from modelward.scoring.sampling import ResourceSampler
from modelward.scoring.served import Catalog, ServedModel

log = logging.getLogger("modelward.scoring")
_MODEL_ROUTE = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?$")
_INVOCATIONS_ROUTE = re.compile(r"^/models/([^/]+)(?:/versions/([^/]+))?/invocations$")
_TEXT = b"text/plain; charset=utf-8"
_METRICS = b"text/plain; version=0.0.4; charset=utf-8"
Handler = Callable[[Scope, Receive, str], Awaitable[Answer]]


class ScoringApp:
    """An ASGI app serving the models in a :class:`Catalog`."""

    def __init__(
        self,
        catalog: Catalog,
        config: ServeConfig,
        metrics: Metrics,
        inference_log: Any = None,
        pii: tuple[Mapping[str, str], bytes | None] = ({}, None),
        sampler: ResourceSampler | None = None,
    ) -> None:
        self.catalog = catalog
        self.sampler = sampler
        self.config = config
        self.metrics = metrics
        self.inference_log = inference_log
        self.pii_modes, self._pii_key = pii  # model name → hash/drop/keep (absent: keep)
        self._static: dict[tuple[str, str], Handler] = {
            ("GET", "/v2"): self._server_metadata,
            ("GET", "/v2/health/live"): self._live,
            ("GET", "/v2/health/ready"): self._ready,
            ("GET", "/ping"): self._ready,
            ("GET", "/health"): self._ready,
            ("GET", "/version"): self._version,
            ("GET", "/metrics"): self._metrics,
            ("POST", "/invocations"): self._invocations,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        rid = request_id(scope)
        try:
            answer = await self._route(scope, receive, rid)
        except ModelwardError as exc:
            answer = self._error(exc)
        except Exception as exc:  # a bug in modelward: answer 500, keep serving
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            answer = Answer(500, codecs.error_body(f"internal error: {exc!r}"))
        await send_answer(send, answer, rid)

    def _error(self, exc: ModelwardError) -> Answer:
        message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
        headers = [(b"retry-after", b"1")] if exc.http_status == 503 else []
        return Answer(exc.http_status, codecs.error_body(message), headers=headers)

    async def _route(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        method, path = scope["method"], scope["path"]
        handler = self._static.get((method, path))
        if handler is not None:
            return await handler(scope, receive, rid)
        if match := _MODEL_ROUTE.match(path):
            name, version, action = match.groups()
            model = self.catalog.require(name, version)
            if action == "/infer" and method == "POST":
                return await self._infer(model, scope, receive, rid)
            if action == "/ready" and method == "GET":
                return self._model_ready(model)
            if action is None and method == "GET":
                return self._model_metadata(model)
        elif (match := _INVOCATIONS_ROUTE.match(path)) and method == "POST":
            return await self._invoke(self.catalog.require(*match.groups()), scope, receive, rid)
        return Answer(404, codecs.error_body(f"no route for {method} {path}"))

    # --- health and metadata ------------------------------------------------------------------
    async def _server_metadata(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        return Answer(200, codecs.oip_server_metadata(modelward.__version__))

    async def _live(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        return Answer(200, b'{"live":true}')

    async def _ready(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        ready = self.catalog.ready
        return Answer(200 if ready else 503, b'{"ready":true}' if ready else b'{"ready":false}')

    async def _version(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        return Answer(200, modelward.__version__.encode(), content_type=_TEXT)

    async def _metrics(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        for model in self.catalog.models:
            for stat in model.pool.stats():
                if stat["alive"] and stat["cpu_seconds"] is not None:
                    labels = (model.name, str(stat["worker"]))
                    self.metrics.worker_cpu.labels(*labels).set(stat["cpu_seconds"])
                    self.metrics.worker_rss.labels(*labels).set(stat["rss_bytes"])
        if self.inference_log is not None:
            self.metrics.log_spilled.set(self.inference_log.stats().get("spilled", 0))
        return Answer(200, self.metrics.render(), content_type=_METRICS)

    def _model_ready(self, model: ServedModel) -> Answer:
        ready = model.state == "ready"
        body = msgspec.json.encode(
            {"name": model.name, "version": model.number, "ready": ready, "error": model.error}
        )
        return Answer(200 if ready else 503, body)

    def _model_metadata(self, model: ServedModel) -> Answer:
        versions = self.catalog.versions_of(model.name)
        return Answer(
            200,
            codecs.oip_model_metadata(model.name, versions, model.version.flavor, model.signature),
        )

    # --- scoring ------------------------------------------------------------------------------
    async def _invocations(self, scope: Scope, receive: Receive, rid: str) -> Answer:
        names = {m.name for m in self.catalog.models}
        if len(names) != 1:
            raise InvalidInputError(
                "/invocations needs exactly one served model; this server serves "
                + ", ".join(sorted(names)),
                hint="POST to /models/{name}/invocations instead",
            )
        return await self._invoke(self.catalog.models[0], scope, receive, rid)

    async def _infer(self, model: ServedModel, scope: Scope, receive: Receive, rid: str) -> Answer:
        async def work(body: bytes) -> tuple[codecs.Decoded, dict[str, np.ndarray], bytes]:
            decoded = codecs.decode_oip_infer(body, model.signature)
            outputs = await self._score(model, decoded)
            encoded = codecs.encode_oip_infer(
                model.name, model.number, decoded.request_id, outputs, decoded.outputs
            )
            return decoded, outputs, encoded

        return await self._scored(model, scope, receive, rid, "oip", work)

    async def _invoke(self, model: ServedModel, scope: Scope, receive: Receive, rid: str) -> Answer:
        content_type = header(scope, b"content-type") or "application/json"

        async def work(body: bytes) -> tuple[codecs.Decoded, dict[str, np.ndarray], bytes]:
            decoded = codecs.decode_invocations(body, content_type, model.signature)
            outputs = await self._score(model, decoded)
            return decoded, outputs, codecs.encode_invocations(outputs)

        return await self._scored(model, scope, receive, rid, "mlflow", work)

    async def _score(self, model: ServedModel, decoded: codecs.Decoded) -> dict[str, np.ndarray]:
        columns = decoded.columns
        if model.signature is not None:
            try:
                columns = conform_columns(model.signature, columns)
            except SignatureViolationError:
                self.metrics.schema_violations.labels(model.name).inc()
                raise
        return await model.batcher.submit(columns, decoded.params, decoded.rows)

    async def _scored(
        self,
        model: ServedModel,
        scope: Scope,
        receive: Receive,
        rid: str,
        protocol: str,
        work: Callable[[bytes], Awaitable[tuple[codecs.Decoded, dict[str, np.ndarray], bytes]]],
    ) -> Answer:
        """Run one scoring request with metrics and the inference log around it."""
        started = time.perf_counter()
        inflight = self.metrics.inflight.labels(model.name)
        inflight.inc()
        decoded: codecs.Decoded | None = None
        outputs: dict[str, np.ndarray] = {}
        error: ModelwardError | None = None
        try:
            model.check_ready()
            body = await read_body(scope, receive, self.config.max_body_bytes)
            decoded, outputs, encoded = await work(body)
            answer = Answer(200, encoded)
        except ModelwardError as exc:
            error = exc
            answer = self._error(exc)
        finally:
            inflight.dec()
        elapsed = time.perf_counter() - started
        self.metrics.requests.labels(model.name, model.number, protocol, str(answer.status)).inc()
        self.metrics.latency.labels(model.name, model.number).observe(elapsed)
        if self.inference_log is not None:
            self._record(model, rid, protocol, answer.status, elapsed, decoded, outputs, error)
        return answer

    def _record(
        self,
        model: ServedModel,
        rid: str,
        protocol: str,
        status: int,
        elapsed: float,
        decoded: codecs.Decoded | None,
        outputs: dict[str, np.ndarray],
        error: ModelwardError | None,
    ) -> None:
        pii = self.pii_modes.get(model.name, "keep")
        record = InferenceRecord(
            request_id=rid,
            time=datetime.now(UTC),
            model=model.name,
            version=model.version.version,
            status=status,
            latency_ms=elapsed * 1000,
            inputs=protect(decoded.columns, model.signature, pii, self._pii_key)
            if decoded is not None
            else {},
            outputs=protect(outputs, model.signature, pii, self._pii_key),
            error=error.message if error is not None else None,
            protocol=protocol,
        )
        try:
            self.inference_log.record(record)
        except ModelwardError as exc:  # logging must never break an answer; it is counted
            log.error("inference record for %s not logged: %s", rid, exc)

    # --- lifespan -----------------------------------------------------------------------------
    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Start the inference log and every model's workers."""
        if self.inference_log is not None:
            await asyncio.to_thread(self.inference_log.start)  # recovery may read spill files
        await self.catalog.start(self.metrics)
        if self.sampler is not None:
            self.sampler.start()

    async def shutdown(self) -> None:
        """Finish in-flight batches, stop workers, flush the inference log."""
        if self.sampler is not None:
            await self.sampler.stop()
        await self.catalog.close()
        if self.inference_log is not None:
            await asyncio.to_thread(self.inference_log.close)

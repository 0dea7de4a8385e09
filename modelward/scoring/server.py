"""Running the scoring app: one uvicorn process, or several sharing one listening socket.

Several HTTP workers share a socket bound here with ``IPPROTO_TCP`` set explicitly: uvicorn's own
multi-worker path binds with protocol 0, so accepted connections never get TCP_NODELAY and every
keep-alive request after the first waits ~40 ms for a delayed ACK (uvicorn issue #3149).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from modelward.client import Client
from modelward.errors import InvalidInputError
from modelward.governance.policies import load_policy
from modelward.governance.privacy import load_key, pii_mode
from modelward.scoring.app import ScoringApp
from modelward.scoring.config import ServeConfig
from modelward.scoring.metrics import Metrics
from modelward.scoring.sampling import ResourceSampler
from modelward.scoring.served import Catalog

log = logging.getLogger("modelward.scoring")


def resolve_refs(refs: Sequence[str], client: Client | None = None) -> list[str]:
    """Pin every reference to an exact ``name/version`` once, before any worker starts."""
    mw = client or Client()
    exact: list[str] = []
    for ref in refs:
        version = mw.get(ref)
        if version.ref in exact:
            raise InvalidInputError(f"{ref} resolves to {version.ref}, which is already served")
        exact.append(version.ref)
    if not exact:
        raise InvalidInputError("give at least one model reference to serve")
    return exact


def build_app(refs: Sequence[str], config: ServeConfig, client: Client | None = None) -> ScoringApp:
    """The ASGI app for exact ``name/version`` references (see :func:`resolve_refs`)."""
    mw = client or Client()
    versions = [mw.get(ref) for ref in refs]
    metrics = Metrics()
    inference_log = None
    if config.inference_log:
        from modelward.monitoring.inference_log import InferenceLog

        inference_log = InferenceLog(mw.settings.home / "inference")
    modes: dict[str, str] = {}
    if inference_log is not None:  # PII columns: hashed or dropped per the model's policy
        for v in versions:
            if v.signature and v.signature.pii_columns:
                tier = mw.get_model(v.name).risk_tier
                modes[v.name] = pii_mode(load_policy(tier, mw.settings.home).pii)
    key = load_key(mw.settings) if "hash" in modes.values() else None
    pii = (modes, key)
    catalog = Catalog.build(versions, config, metrics)
    sampler = ResourceSampler(catalog, mw.settings.home) if inference_log is not None else None
    return ScoringApp(catalog, config, metrics, inference_log, pii, sampler)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: ScoringApp, config: ServeConfig) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
    )


def _run_uvicorn(app: ScoringApp, config: ServeConfig, sock: socket.socket) -> None:
    """Run until SIGTERM/SIGINT, then return normally (exit code 0 after a graceful stop).

    uvicorn re-raises the signal it caught once it has shut down; with these no-op handlers in
    place that re-raise ends here instead of killing the process.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: None)
    uvicorn.Server(_uvicorn_config(app, config)).run(sockets=[sock])


def _http_worker(refs: list[str], config: ServeConfig, sock: socket.socket) -> None:
    _run_uvicorn(build_app(refs, config), config, sock)


def serve(refs: Sequence[str], config: ServeConfig) -> None:
    """Serve until SIGTERM/SIGINT; then stop accepting, finish in-flight requests, flush logs."""
    exact = resolve_refs(refs)
    if config.workers <= 1:
        _run_uvicorn(build_app(exact, config), config, bind_socket(config.host, config.port))
        return
    _supervise(exact, config)


def _supervise(refs: list[str], config: ServeConfig) -> None:
    sock = bind_socket(config.host, config.port)
    metrics_dir = Path(tempfile.mkdtemp(prefix="modelward-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = ctx.Process(target=_http_worker, args=(refs, config, sock), daemon=False)
        process.start()
        return process

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [start() for _ in range(config.workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(workers):
                if not process.is_alive() and not stopping:
                    log.error(
                        "HTTP worker %s exited with %s; starting another",
                        process.pid,
                        process.exitcode,
                    )
                    workers[i] = start()
    finally:
        for process in workers:
            if process.is_alive() and process.pid:
                os.kill(process.pid, signal.SIGTERM)  # each finishes its in-flight requests
        for process in workers:
            process.join(60)
            if process.is_alive():
                process.kill()
        sock.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)

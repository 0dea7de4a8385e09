"""Running the control plane: one uvicorn process, stopped gracefully on SIGTERM/SIGINT."""

from __future__ import annotations

import signal

import uvicorn
from fastapi import FastAPI

from modelward.api.app import create_app
from modelward.config import Settings
from modelward.errors import ConfigurationError, UnavailableError
from modelward.governance.users import has_users
from modelward.scoring.server import bind_socket


def build(settings: Settings | None = None, *, scheduler_interval: float | None = None) -> FastAPI:
    """The app, refused while the database has no user: nobody could call it, or set one up."""
    app = create_app(settings, scheduler_interval=scheduler_interval)
    if not has_users(app.state.context.auth):
        app.state.context.close()
        raise ConfigurationError(
            "there are no users yet, so nobody could call the control-plane API",
            hint="run `modelward init` first: it creates the first admin and prints its token once",
        )
    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT; then stop accepting and finish in-flight requests.

    uvicorn re-raises the signal it caught once it has shut down; the no-op handlers installed
    first make that re-raise end here, so a graceful stop exits 0 (as ``modelward serve`` does).
    """
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        raise UnavailableError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port, or stop what is using it",
        ) from exc
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: None)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()

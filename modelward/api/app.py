"""The control-plane app: every route under ``/api/v1``, denied without a token by default.

All resource routers hang below one router whose dependency authenticates the caller, so a new
route cannot forget it; :data:`PUBLIC_PATHS` is the one list of exceptions, and
:func:`create_app` refuses to build an app with any other route that skips authentication.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import fastapi.routing
from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant

import modelward
from modelward.api import (
    aliases,
    approvals,
    artifacts,
    audit,
    audit_chain,
    cards,
    comments,
    errors,
    lifecycle,
    lineage,
    model_edits,
    models,
    policies,
    registrations,
    users,
    validation,
    versions,
)
from modelward.api.context import ApiContext
from modelward.api.security import Permission, authenticate
from modelward.config import Settings, load_settings
from modelward.errors import ConfigurationError
from modelward.monitoring.scheduler import MonitorScheduler
from modelward.store.sql import SqlStore

API_PREFIX = "/api/v1"
#: The only paths answered without a token: liveness, and the API's own description.
PUBLIC_PATHS = (f"{API_PREFIX}/health", f"{API_PREFIX}/openapi.json")
ROUTERS = (
    models.router,
    model_edits.router,
    versions.router,
    artifacts.router,
    registrations.router,
    aliases.router,
    lifecycle.router,
    validation.router,
    approvals.router,
    comments.router,
    policies.router,
    cards.router,
    lineage.router,
    audit.router,
    audit_chain.router,
    users.router,
)


def create_app(
    settings: Settings | None = None, *, scheduler_interval: float | None = None
) -> FastAPI:
    """The ASGI app on the database and artifact root of ``settings`` (the environment's);
    with ``scheduler_interval`` (seconds), it also runs due monitors and delivers webhooks in a
    background thread while it serves."""
    ctx = ApiContext.open(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = _scheduler(ctx, scheduler_interval)
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            ctx.close()

    app = FastAPI(
        title="modelward control plane",
        version=modelward.__version__,
        description="Models, versions, aliases, lifecycle, validation, approvals, comments, "
        "policies, model cards, lineage, audit, users and tokens. See docs/api.md.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the interactive pages load scripts from a CDN; the JSON is enough
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = ctx
    errors.install(app)
    app.add_api_route(f"{API_PREFIX}/health", health, methods=["GET"], tags=["health"])
    protected = APIRouter(prefix=API_PREFIX, dependencies=[Depends(authenticate)])
    for router in ROUTERS:
        protected.include_router(router)
    app.include_router(protected)
    try:
        check_deny_by_default(app)
    except RuntimeError:
        ctx.close()
        raise
    return app


def _scheduler(ctx: ApiContext, interval: float | None) -> MonitorScheduler | None:
    if not interval:
        return None
    if not isinstance(ctx.store, SqlStore):
        raise ConfigurationError("the monitor scheduler needs the SQL metadata store")
    scheduler = MonitorScheduler(ctx.settings, ctx.store, interval=interval)
    scheduler.start()
    return scheduler


def health() -> dict[str, str]:
    """Liveness: answers without a token and without touching the database."""
    return {"status": "ok"}


def check_deny_by_default(app: FastAPI) -> None:
    """Raise unless every route outside :data:`PUBLIC_PATHS` authenticates its caller and
    declares the permission it needs (``requires(None)`` where authentication is enough)."""
    escaped = [
        str(getattr(route, "path", route))
        for route in walk_routes(app)
        if getattr(route, "path", None) not in PUBLIC_PATHS
        and (authenticate not in dependency_calls(route) or permission_of(route) is None)
    ]
    if escaped:
        raise RuntimeError(f"routes without authentication or permission: {', '.join(escaped)}")


def walk_routes(app: FastAPI) -> list[Any]:
    """Every route of ``app``, each with its full ``path``, ``methods`` and ``dependant``.

    Newer FastAPI keeps included routers as such in ``app.routes``, older releases copy their
    routes in; ``iter_route_contexts``, where it exists, flattens the former.
    """
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(flatten(app.routes)) if flatten else list(app.routes)


def dependency_calls(route: Any) -> list[object]:
    """Every dependency a route runs, nested ones included (none for a plain Starlette route)."""
    calls: list[object] = []
    stack: list[Dependant] = [d] if (d := getattr(route, "dependant", None)) else []
    while stack:
        for sub in stack.pop().dependencies:
            calls.append(sub.call)
            stack.append(sub)
    return calls


def permission_of(route: Any) -> Permission | None:
    """The permission a route declares, or ``None``."""
    return next((c for c in dependency_calls(route) if isinstance(c, Permission)), None)

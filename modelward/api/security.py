"""Who is calling, and may they: the token check every route runs, and per-route permissions.

:func:`authenticate` is a dependency of the router that holds every route but the public ones
(``create_app`` refuses to build an app where any other route escapes it). Routes declare what
they need with ``caller: Caller = requires("models:read")``, which also hands them the caller
whose name they pass on as the actor.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from modelward.api.context import ApiContext, context
from modelward.governance import users
from modelward.governance.auth import PERMISSIONS, require
from modelward.governance.users import Caller

bearer = HTTPBearer(auto_error=False, description="an API token from `modelward tokens create`")


def authenticate(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ctx: ApiContext = Depends(context),
) -> Caller:
    """The caller whose bearer token came with the request; 401 without a valid one."""
    return users.authenticate(ctx.auth, credentials.credentials if credentials else None)


class Permission:
    """A dependency that lets the request through when the caller's role holds ``name``.

    ``name=None`` asks for an authenticated caller only (``/me``).
    """

    def __init__(self, name: str | None) -> None:
        if name is not None and name not in PERMISSIONS:
            raise ValueError(f"unknown permission {name!r}")
        self.name = name

    def __call__(self, caller: Caller = Depends(authenticate)) -> Caller:
        if self.name is not None:
            require(caller.user.role, self.name)
        return caller

    def __repr__(self) -> str:
        return f"Permission({self.name!r})"


def requires(permission: str | None) -> Any:
    """``Depends`` on :class:`Permission`: use as a route parameter's default."""
    return Depends(Permission(permission))

"""Users and API tokens (``users:admin``), and ``/me`` for any authenticated caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from modelward.api.context import ApiContext, context
from modelward.api.schemas import NewToken, NewUser
from modelward.api.security import requires
from modelward.governance import users
from modelward.governance.auth import ROLE_PERMISSIONS
from modelward.governance.users import Caller

router = APIRouter(tags=["users and tokens"])


@router.get("/me")
def me(caller: Caller = requires(None)) -> dict[str, Any]:
    """Who the token belongs to, its role and permissions."""
    return {
        **caller.user.to_dict(),
        "token": caller.token_prefix,
        "permissions": sorted(ROLE_PERMISSIONS.get(caller.user.role, frozenset())),
    }


@router.get("/users")
def list_users(
    caller: Caller = requires("users:admin"), ctx: ApiContext = Depends(context)
) -> list[dict[str, Any]]:
    """Every user, by name."""
    return [u.to_dict() for u in users.list_users(ctx.auth)]


@router.post("/users", status_code=201)
def create_user(
    body: NewUser, caller: Caller = requires("users:admin"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Create a user (it has no token until one is created for it)."""
    return users.create_user(ctx.auth, body.name, body.role, actor=caller.name).to_dict()


@router.post("/users/{name}/disable")
def disable_user(
    name: str, caller: Caller = requires("users:admin"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Disable a user: its tokens stop working. Refused for the last enabled admin."""
    return users.disable_user(ctx.auth, name, actor=caller.name).to_dict()


@router.post("/users/{name}/enable")
def enable_user(
    name: str, caller: Caller = requires("users:admin"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Enable a disabled user again."""
    return users.enable_user(ctx.auth, name, actor=caller.name).to_dict()


@router.post("/users/{name}/tokens", status_code=201)
def create_token(
    name: str,
    body: NewToken,
    caller: Caller = requires("users:admin"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Create a token for a user. The answer holds the token: the only time it is shown."""
    record, secret = users.create_token(
        ctx.auth,
        name,
        actor=caller.name,
        expires_days=body.expires_days,
        description=body.description,
    )
    return {**record.to_dict(), "token": secret}


@router.get("/tokens")
def list_tokens(
    user: str | None = Query(None, description="Only this user's tokens."),
    caller: Caller = requires("users:admin"),
    ctx: ApiContext = Depends(context),
) -> list[dict[str, Any]]:
    """Tokens (prefix, user, dates, status), oldest first; never the tokens themselves."""
    return [t.to_dict() for t in users.list_tokens(ctx.auth, user)]


@router.post("/tokens/{prefix}/revoke")
def revoke_token(
    prefix: str, caller: Caller = requires("users:admin"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Revoke a token at once and for good (revoking it again changes nothing)."""
    return users.revoke_token(ctx.auth, prefix, actor=caller.name).to_dict()

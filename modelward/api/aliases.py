"""Aliases: read a model's, point one at a version, remove one, and every move so far."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from modelward.api.context import ApiContext, context
from modelward.api.schemas import AliasBody
from modelward.api.security import requires
from modelward.governance.users import Caller

router = APIRouter(tags=["aliases"])


@router.get("/models/{name}/aliases")
def get_aliases(
    name: str, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, int]:
    """The model's aliases and the versions they point at."""
    return ctx.store.get_model(name).aliases


@router.put("/models/{name}/aliases/{alias}")
def set_alias(
    name: str,
    alias: str,
    body: AliasBody,
    caller: Caller = requires("aliases:write"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Point ``alias`` at ``body.version`` atomically; the move is recorded."""
    return ctx.registry_for(caller).set_alias(name, alias, body.version).to_dict()


@router.delete("/models/{name}/aliases/{alias}")
def delete_alias(
    name: str,
    alias: str,
    caller: Caller = requires("aliases:write"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Remove an alias; the removal is recorded."""
    return ctx.registry_for(caller).delete_alias(name, alias).to_dict()


@router.get("/models/{name}/alias-history")
def alias_history(
    name: str,
    alias: str | None = Query(None, description="Only the moves of this alias."),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> list[dict[str, Any]]:
    """Every move of the model's aliases (who, when, from, to), oldest first."""
    return [m.to_dict() for m in ctx.store.alias_history(name, alias)]

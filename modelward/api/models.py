"""``/models``: list and search models, read one, delete one with all its versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page, page_params
from modelward.api.security import requires
from modelward.errors import InvalidInputError
from modelward.governance.users import Caller

router = APIRouter(tags=["models"])


@router.get("/models")
def list_models(
    request: Request,
    search: str | None = Query(None, description="Text in the name or description."),
    tag: list[str] = Query([], description="Only models with tag NAME=VALUE (repeatable)."),
    owner: str | None = Query(None, description="Only models of this owner."),
    risk_tier: str | None = Query(None, description="Only this risk tier."),
    params: PageParams = Depends(page_params),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Models by name, one page at a time."""
    found = ctx.store.search_models(
        text=search,
        tags=_tags(tag),
        owner=owner,
        risk_tier=risk_tier,
        limit=params.probe,
        offset=params.offset,
    )
    return page(found, params, request)


@router.get("/models/{name}")
def get_model(
    name: str, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """One model with its latest version number and its aliases."""
    return ctx.store.get_model(name).to_dict()


@router.delete("/models/{name}")
def delete_model(
    name: str, caller: Caller = requires("versions:delete"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Delete a model, its versions and their unshared artifacts; refused while it has aliases."""
    gone = ctx.registry_for(caller).delete_model(name)
    return {"deleted": [v.ref for v in gone]}


def _tags(pairs: list[str]) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"tag {pair!r} is not NAME=VALUE", hint="write tag=team=risk")
        tags[key.strip()] = value.strip()
    return tags or None

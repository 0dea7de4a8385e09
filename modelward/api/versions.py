"""Versions: list a model's, read one by number or by any reference, archive, restore, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page, page_params
from modelward.api.security import requires
from modelward.governance.users import Caller
from modelward.refs import ModelRef

router = APIRouter(tags=["versions"])


@router.get("/models/{name}/versions")
def list_versions(
    request: Request,
    name: str,
    include_archived: bool = Query(False, description="Include archived versions."),
    params: PageParams = Depends(page_params),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """A model's versions, newest first, one page at a time."""
    found = ctx.store.list_versions(
        name, include_archived=include_archived, limit=params.probe, offset=params.offset
    )
    return page(found, params, request)


@router.get("/models/{name}/versions/{version}")
def get_version(
    name: str,
    version: int,
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """One version, archived or not."""
    return ctx.store.get_version(name, version).to_dict()


@router.get("/versions/{ref:path}")
def resolve(
    ref: str, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """The version a reference points at: ``NAME/VERSION``, ``NAME@ALIAS`` or ``NAME``."""
    return ctx.registry_for(caller).resolve(ref).to_dict()


@router.post("/models/{name}/versions/{version}/archive")
def archive(
    name: str,
    version: int,
    caller: Caller = requires("versions:archive"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Hide a version from listings and from ``NAME``; it stays readable by number."""
    return ctx.registry_for(caller).archive(ModelRef(name, version)).to_dict()


@router.post("/models/{name}/versions/{version}/restore")
def restore(
    name: str,
    version: int,
    caller: Caller = requires("versions:archive"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Undo archive."""
    return ctx.registry_for(caller).archive(ModelRef(name, version), archived=False).to_dict()


@router.delete("/models/{name}/versions/{version}")
def delete_version(
    name: str,
    version: int,
    caller: Caller = requires("versions:delete"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Delete a version and, when no other version shares it, its artifact."""
    gone = ctx.registry_for(caller).delete_version(ModelRef(name, version))
    return {"deleted": [gone.ref]}

"""Approvals and rejections of a version, bound to the artifact digest the reviewer saw.

The caller decides as its own user, with its user's role: the policy of the model's risk tier
says which roles count, and segregation of duties refuses the version's authors (403).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page_of, page_params
from modelward.api.schemas import Decision, Rejection
from modelward.api.security import requires
from modelward.governance.users import Caller
from modelward.refs import ModelRef

router = APIRouter(tags=["approvals"])


@router.post("/models/{name}/versions/{version}/approve", status_code=201)
def approve(
    name: str,
    version: int,
    body: Decision,
    caller: Caller = requires("lifecycle:approve"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Approve the version; enough counted approvals move it to ``approved``."""
    client = ctx.client_for(caller)
    return client.approve(
        ModelRef(name, version), comment=body.comment, digest=body.digest
    ).to_dict()


@router.post("/models/{name}/versions/{version}/reject", status_code=201)
def reject(
    name: str,
    version: int,
    body: Rejection,
    caller: Caller = requires("lifecycle:approve"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Reject the version, saying why; ``rejected`` is final."""
    client = ctx.client_for(caller)
    return client.reject(
        ModelRef(name, version), comment=body.comment, digest=body.digest
    ).to_dict()


@router.get("/models/{name}/versions/{version}/approvals")
def list_approvals(
    request: Request,
    name: str,
    version: int,
    params: PageParams = Depends(page_params),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Approvals and rejections of the version, oldest first, one page at a time."""
    found = ctx.client_for(caller).approvals(ModelRef(name, version))
    return page_of(found, params, request)

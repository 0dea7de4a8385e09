"""Comment threads on a version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page_of, page_params
from modelward.api.schemas import NewComment
from modelward.api.security import requires
from modelward.governance.users import Caller
from modelward.refs import ModelRef

router = APIRouter(tags=["comments"])


@router.post("/models/{name}/versions/{version}/comments", status_code=201)
def add_comment(
    name: str,
    version: int,
    body: NewComment,
    caller: Caller = requires("comments:write"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Comment on the version; ``reply_to`` answers an earlier comment on it."""
    client = ctx.client_for(caller)
    return client.comment(ModelRef(name, version), body.text, reply_to=body.reply_to).to_dict()


@router.get("/models/{name}/versions/{version}/comments")
def list_comments(
    request: Request,
    name: str,
    version: int,
    params: PageParams = Depends(page_params),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Comments on the version, oldest first (``parent_id`` links a reply), one page at a time."""
    found = ctx.client_for(caller).comments(ModelRef(name, version))
    return page_of(found, params, request)

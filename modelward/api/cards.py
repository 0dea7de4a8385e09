"""Model cards of versions, as Markdown, self-contained HTML or JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from modelward.api.context import ApiContext, context
from modelward.api.security import requires
from modelward.errors import InvalidInputError
from modelward.governance.card_render import FORMATS
from modelward.governance.users import Caller
from modelward.refs import ModelRef

router = APIRouter(tags=["model cards"])
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "json": "application/json"}


@router.get("/models/{name}/versions/{version}/card")
def card(
    name: str,
    version: int,
    fmt: str = Query("md", alias="format", description="md, html or json."),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> Response:
    """The version's model card (``modelward card``), facts from the registry, narrative from
    the model's card fields; a missing narrative says "not documented yet"."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown card format {fmt!r}", hint=f"use one of {FORMATS}")
    text = ctx.client_for(caller).model_card(ModelRef(name, version), format=fmt)
    return Response(text, media_type=f"{MEDIA_TYPES.get(fmt, 'text/plain')}; charset=utf-8")

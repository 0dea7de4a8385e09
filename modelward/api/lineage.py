"""Lineage of a version, and the track-back of one request id through the inference log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from modelward.api.context import ApiContext, context
from modelward.api.security import requires
from modelward.governance.users import Caller

router = APIRouter(tags=["lineage"])


@router.get("/lineage/{ref:path}")
def lineage(
    ref: str, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Upstream (data, code, params, environment, parent) and downstream (aliases, validation
    reports, approvals) of the version ``ref`` points at."""
    return ctx.client_for(caller).lineage(ref)


@router.get("/trace/{request_id}")
def trace(
    request_id: str, caller: Caller = requires("audit:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """One request traced back: inference record → version → artifact → training data →
    validation reports → approvals (the server's inference log)."""
    return ctx.client_for(caller).trace(request_id)

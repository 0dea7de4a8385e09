"""The audit trail as the SDK reads it: filtered newest first, the chain verified, and every
event exported as JSON lines (read only, like ``/audit/events``)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page, page_params
from modelward.api.security import requires
from modelward.governance.users import Caller

router = APIRouter(tags=["audit"])
EXPORT_TYPE = "application/x-ndjson"


@router.get("/audit/log")
def audit_log(
    request: Request,
    object_ref: str | None = Query(
        None, alias="object", description="NAME (with its versions and aliases), NAME/N, NAME@A."
    ),
    since: datetime | None = Query(None, description="Only events at or after (ISO 8601)."),
    actor: str | None = Query(None, description="Only events by this actor."),
    action: str | None = Query(None, description="Only this action, e.g. version.approve."),
    params: PageParams = Depends(page_params),
    caller: Caller = requires("audit:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Matching events, **newest first**, one page at a time (``modelward audit log``)."""
    found = ctx.client_for(caller).audit_log(
        object_ref=object_ref,
        since=since.isoformat() if since else None,  # a time without a zone is taken as UTC
        actor=actor,
        action=action,
        limit=params.offset + params.probe,
    )
    return page(found[::-1][params.offset :], params, request)


@router.get("/audit/verify")
def verify(caller: Caller = requires("audit:read"), ctx: ApiContext = Depends(context)) -> Any:
    """Recompute the whole hash chain: ``{events, head_seq, head_hash}`` when intact, else
    500 ``AUDIT_CHAIN_BROKEN`` naming the first broken event in ``seq``."""
    return ctx.client_for(caller).verify_audit().to_dict()


@router.get("/audit/export", response_class=FileResponse)
def export(caller: Caller = requires("audit:read"), ctx: ApiContext = Depends(context)) -> Any:
    """Every event (stored columns, the hashed payload, both hashes) as JSON lines, from one
    consistent snapshot of the chain, verifiable elsewhere (docs/audit.md)."""
    client = ctx.client_for(caller)
    client.settings.ensure_home()
    scratch = Path(tempfile.mkdtemp(dir=client.settings.cache_dir, prefix="audit-export-"))
    try:
        out = scratch / "audit.jsonl"
        count = client.export_audit(out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return FileResponse(
        out,
        media_type=EXPORT_TYPE,
        filename="audit.jsonl",
        headers={"X-Modelward-Events": str(count)},
        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )

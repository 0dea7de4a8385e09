"""``/audit/events``: the audit trail, filtered and paged. Read only: no route edits or deletes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page, page_params
from modelward.api.security import requires
from modelward.governance.users import Caller

router = APIRouter(tags=["audit"])


@router.get("/audit/events")
def audit_events(
    request: Request,
    object_type: str | None = Query(None, description="model, version, alias, user, token, …"),
    object_id: str | None = Query(None, description="e.g. churn, churn/3, churn@champion."),
    since: datetime | None = Query(
        None, description="Only events at or after this time (ISO 8601; without a zone: UTC)."
    ),
    params: PageParams = Depends(page_params),
    caller: Caller = requires("audit:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Audit events in chain order, one page at a time."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    # The store filters and limits but has no offset: read up to the end of this page and cut.
    events = ctx.store.audit_events(
        object_type=object_type,
        object_id=object_id,
        since=since,
        limit=params.offset + params.probe,
    )
    return page(events[params.offset :], params, request)

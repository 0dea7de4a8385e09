"""Editing models: create one, change its description, tags, risk tier, goals and card."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from modelward.api.context import ApiContext, context
from modelward.api.schemas import CardFields, ModelUpdate, NewModel
from modelward.api.security import requires
from modelward.governance.auth import require
from modelward.governance.users import Caller
from modelward.store.entities import RISK_TIERS

router = APIRouter(tags=["models"])
#: Lowering a risk tier relaxes the policy that governs the model: as strong as setting a policy.
TIER_PERMISSION = "policies:write"
DEFAULT_TIER = "medium"


def check_tier_change(caller: Caller, before: str, after: str | None) -> None:
    """Refuse a caller without :data:`TIER_PERMISSION` a tier lower than ``before``."""
    if after in RISK_TIERS and RISK_TIERS.index(after) < RISK_TIERS.index(before):
        require(caller.user.role, TIER_PERMISSION)


@router.post("/models", status_code=201)
def create_model(
    body: NewModel, caller: Caller = requires("models:write"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Create an empty model (registering a version creates one implicitly)."""
    check_tier_change(caller, DEFAULT_TIER, body.risk_tier)
    return (
        ctx.client_for(caller)
        .create_model(
            body.name,
            description=body.description,
            owner=body.owner or caller.name,
            risk_tier=body.risk_tier,
            tags=body.tags,
        )
        .to_dict()
    )


@router.patch("/models/{name}")
def update_model(
    name: str,
    body: ModelUpdate,
    caller: Caller = requires("models:write"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Change the fields given; goals are checked strictly; the change is audited."""
    check_tier_change(caller, ctx.store.get_model(name).risk_tier, body.risk_tier)
    return (
        ctx.client_for(caller)
        .update_model(
            name,
            description=body.description,
            risk_tier=body.risk_tier,
            tags=body.tags,
            goals=body.goals,
            card=body.card,
        )
        .to_dict()
    )


@router.patch("/models/{name}/card")
def update_card(
    name: str,
    body: CardFields,
    caller: Caller = requires("models:write"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Set or clear narrative fields of the model card (names checked, empty text refused)."""
    return ctx.client_for(caller).update_card(name, **body.fields).to_dict()

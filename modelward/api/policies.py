"""Governance policies per risk tier: read the effective one, install a new one (audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from modelward.api.context import ApiContext, context
from modelward.api.schemas import PolicyBody
from modelward.api.security import requires
from modelward.governance.policies import Policy
from modelward.governance.users import Caller

router = APIRouter(tags=["policies"])
#: Policies decide what every model of a tier must pass: only admins set them.
POLICY_PERMISSION = "policies:write"


@router.get("/policies/{tier}")
def get_policy(
    tier: str, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """The effective policy of a tier: ``tier``, ``source``, ``sha256`` and ``policy``."""
    return policy_dict(ctx.client_for(caller).get_policy(tier))


@router.put("/policies/{tier}")
def set_policy(
    tier: str,
    body: PolicyBody,
    caller: Caller = requires(POLICY_PERMISSION),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Check the policy strictly and install it for the tier; sections left out keep the
    tier's built-in values. The change is audited."""
    data = body.model_dump(exclude_unset=True)
    return policy_dict(ctx.client_for(caller).set_policy(tier, data))


def policy_dict(policy: Policy) -> dict[str, Any]:
    """What ``modelward policy show --json`` prints: the description and the rules."""
    return {**policy.describe(), "policy": policy.to_dict()}

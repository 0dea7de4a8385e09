"""The lifecycle of a version: where it stands and what it still needs, and retiring it.

Promotion to production is ``PUT /models/{name}/aliases/champion``: the alias move and its stage
moves are one transaction, checked against the model's policy (see docs/governance.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from modelward.api.context import ApiContext, context
from modelward.api.security import requires
from modelward.governance import lifecycle
from modelward.governance.users import Caller
from modelward.refs import ModelRef
from modelward.store.governance_entities import GovernanceState

router = APIRouter(tags=["lifecycle"])


@router.get("/models/{name}/versions/{version}/lifecycle")
def lifecycle_state(
    name: str,
    version: int,
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Stage, policy, counted approvals, latest validation and ``production_needs`` (what is
    missing before the version may become champion), plus the full ``state``."""
    client = ctx.client_for(caller)
    state = client.governance_state(ModelRef(name, version))
    policy = client.get_policy(state.model.risk_tier)
    return {**lifecycle.summary(state, policy), "state": state_dict(state)}


@router.post("/models/{name}/versions/{version}/retire")
def retire(
    name: str,
    version: int,
    caller: Caller = requires("versions:archive"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Retire a version for good; refused while it is the champion, or already final."""
    return ctx.client_for(caller).retire(ModelRef(name, version)).to_dict()


def state_dict(state: GovernanceState) -> dict[str, Any]:
    """A governance state as JSON (:meth:`GovernanceState.from_dict` reads it back)."""
    return {
        "model": state.model.to_dict(),
        "version": state.version.to_dict(),
        "approvals": [a.to_dict() for a in state.approvals],
        "reports": [r.to_dict() for r in state.reports],
        "history": [list(pair) for pair in state.history],
        "stages": {str(n): stage for n, stage in state.stages.items()},
    }

"""Approvals and rejections of versions, bound to the artifact digest the reviewer saw.

A reviewer decides once per version. The policy of the model's risk tier says whose decisions
count (roles) and how many approvals move a version to ``approved``; segregation of duties bars
the author, and anyone who changed the version, from deciding on it. Service functions take the
acting user and role explicitly: in embedded mode that is the OS user with ``MODELWARD_ROLE``
(default ``admin``); the REST server passes its authenticated user's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from modelward.errors import (
    ApproverRoleError,
    InvalidInputError,
    PolicyViolationError,
    SelfApprovalError,
    StaleDigestError,
)
from modelward.governance.auth import check_role
from modelward.governance.lifecycle import (
    TERMINAL,
    approve_moves,
    authors,
    counted_approvals,
    validation_gap,
)
from modelward.governance.policies import Policy, load_policy
from modelward.refs import ModelRef, parse_ref
from modelward.store.base import MetadataStore
from modelward.store.governance_entities import Approval, GovernanceState, NewDecision, StageMove

ENV_ROLE = "MODELWARD_ROLE"
EMBEDDED_ROLE = "admin"
DECISIONS = ("approve", "reject")
_DIGEST = re.compile(r"^[0-9a-f]{12,64}$")


def embedded_role(environ: Mapping[str, str] | None = None) -> str:
    """The role the OS user acts with in embedded mode: ``MODELWARD_ROLE``, default ``admin``."""
    env = os.environ if environ is None else environ
    return check_role(env.get(ENV_ROLE) or EMBEDDED_ROLE)


def decide(
    store: MetadataStore,
    ref: str | ModelRef,
    decision: str,
    *,
    actor: str,
    role: str,
    comment: str | None = None,
    digest: str | None = None,
    home: Path | None = None,
) -> Approval:
    """Record ``actor``'s approval or rejection of the version ``ref`` points at.

    ``digest`` is the artifact digest the reviewer looked at (a prefix of 12+ hex digits will
    do); the decision is refused when it is not the version's.
    """
    check_role(role)
    if decision not in DECISIONS:
        raise InvalidInputError(f"unknown decision {decision!r}", hint="approve or reject")
    comment = (comment or "").strip() or None
    if decision == "reject" and comment is None:
        raise InvalidInputError("a rejection needs a comment saying why", hint="--comment TEXT")
    version = store.resolve(ref if isinstance(ref, ModelRef) else parse_ref(ref))
    new = NewDecision(decision, _seen(digest, version.digest), role, comment)

    def plan(state: GovernanceState) -> list[StageMove]:
        return decision_moves(state, load_policy(state.model.risk_tier, home), new, actor)

    return store.record_decision(version.name, version.version, new, actor=actor, plan=plan)


def decision_moves(
    state: GovernanceState, policy: Policy, new: NewDecision, actor: str
) -> list[StageMove]:
    """Refuse the decision, or return the stage moves it brings."""
    v = state.version
    verb = new.decision
    if new.digest != v.digest:
        raise StaleDigestError(
            f"{actor} looked at artifact sha256:{new.digest[:12]}…, but {v.ref} is "
            f"sha256:{v.digest[:12]}…",
            hint=f"look at it again (modelward models show {v.ref}) and decide on that digest",
        )
    if policy.segregation_of_duties and actor in authors(state):
        how = "created" if actor == v.created_by else "changed"
        raise SelfApprovalError(
            f"{actor} may not {verb} {v.ref}: they {how} it "
            f"(segregation of duties, policy {policy.tier!r})",
            hint="ask a reviewer who neither created nor changed this version",
        )
    if new.role not in policy.roles:
        raise ApproverRoleError(
            f"{actor} acts as {new.role}, but policy {policy.tier!r} takes decisions only from: "
            f"{', '.join(policy.roles)}",
            hint=f"embedded mode: set {ENV_ROLE}; on a server an admin gives the user that role",
        )
    if v.stage in TERMINAL:
        raise PolicyViolationError(
            f"cannot {verb} {v.ref}: it is {v.stage}, and that is final",
            hint="register a new version",
        )
    if verb == "reject":
        if v.stage == "production":
            raise PolicyViolationError(
                f"cannot reject {v.ref}: it is in production",
                hint=f"point champion at another version, then: modelward retire {v.ref}",
            )
        return [StageMove(v.version, v.stage, "rejected", f"rejected by {actor}")]
    gap = validation_gap(state, policy) if v.stage == "draft" else None
    if gap:
        raise PolicyViolationError(
            f"cannot approve {v.ref} yet: policy {policy.tier!r} needs {gap}",
            hint="a reviewer approves what was validated",
        )
    have = len(counted_approvals(state, policy)) + 1
    if have < policy.approvals:
        return []
    return approve_moves(
        state, f"approvals complete: {have} of {policy.approvers()} (policy {policy.tier})"
    )


def _seen(digest: str | None, actual: str) -> str:
    """The full digest when ``digest`` (or nothing) names the version's; else what was given."""
    if digest is None:
        return actual
    given = digest.strip().lower().removeprefix("sha256:")
    if not _DIGEST.match(given):
        raise InvalidInputError(
            f"{digest!r} is not a sha256 digest", hint="give 12 to 64 hex digits, as shown"
        )
    return actual if actual.startswith(given) else given

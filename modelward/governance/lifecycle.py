"""The lifecycle of a version: ``draft → validated → approved → production → retired``, and
``rejected``.

Stages change only here (and in validation and approvals, which use these rules), each move
checked against the model's risk-tier policy and written with its ``version.stage`` audit event
in the same transaction as the change that caused it. ``production`` is reached by pointing the
``champion`` alias at a version; the previous production version is retired or kept (back to
``approved``) as the policy says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelward.errors import PolicyViolationError
from modelward.governance.policies import Policy, load_policy
from modelward.store.base import MetadataStore
from modelward.store.entities import AliasMove, ModelVersion
from modelward.store.governance_entities import Approval, GovernanceState, StageMove

CHAMPION = "champion"
TERMINAL = ("retired", "rejected")
#: Audit actions that review a version rather than change it: doing them does not make
#: someone an author of the version (segregation of duties).
REVIEW_ACTIONS = frozenset(
    {"version.stage", "version.validate", "version.approve", "version.reject", "version.comment"}
)


def authors(state: GovernanceState) -> set[str]:
    """Who created the version or changed it (per the audit trail): they may not approve it."""
    changed = {actor for actor, action in state.history if action not in REVIEW_ACTIONS}
    return {state.version.created_by} | changed


def counted_approvals(state: GovernanceState, policy: Policy) -> list[Approval]:
    """The approvals the policy counts: by one of its roles, and not by an author."""
    barred = authors(state) if policy.segregation_of_duties else set()
    return [
        a
        for a in state.approvals
        if a.decision == "approve" and a.role in policy.roles and a.actor not in barred
    ]


def validation_gap(state: GovernanceState, policy: Policy) -> str | None:
    """What is missing on the validation side, or ``None``."""
    if not policy.validation_required or any(r.passed for r in state.reports):
        return None
    ref = state.version.ref
    if not state.reports:
        return f"a passing validation (none yet: modelward validate {ref} --data FILE)"
    last = state.reports[-1]
    return f"a passing validation (report {last.id} failed: {', '.join(last.failed_checks)})"


def approval_gap(state: GovernanceState, policy: Policy) -> str | None:
    """What is missing on the approval side, or ``None``."""
    if policy.auto_approve:
        return None
    have = len(counted_approvals(state, policy))
    return None if have >= policy.approvals else f"{policy.approvers()}; has {have}"


def production_gaps(state: GovernanceState, policy: Policy) -> list[str]:
    """Everything the version lacks to go to production (empty when it may)."""
    stage = state.version.stage
    if stage in TERMINAL:
        return [f"a version that is not {stage} ({stage} is final: register a new version)"]
    return [gap for gap in (validation_gap(state, policy), approval_gap(state, policy)) if gap]


def summary(state: GovernanceState, policy: Policy) -> dict[str, Any]:
    """A version's stage, policy, counted approvals, latest validation and production needs."""
    latest = state.reports[-1] if state.reports else None
    return {
        "ref": state.version.ref,
        "stage": state.version.stage,
        "digest": state.version.digest,
        "created_by": state.version.created_by,
        "risk_tier": policy.tier,
        "policy": policy.describe(),
        "approvals": {
            "counted": [a.actor for a in counted_approvals(state, policy)],
            "needed": policy.approvals,
        },
        "latest_validation": latest.to_dict() if latest else None,
        "production_needs": production_gaps(state, policy),
    }


def approve_moves(state: GovernanceState, reason: str) -> list[StageMove]:
    """Moves that bring a draft or validated version to ``approved``."""
    v = state.version
    if v.stage not in ("draft", "validated"):
        return []
    return [StageMove(v.version, v.stage, "approved", reason)]


def production_moves(state: GovernanceState, policy: Policy) -> list[StageMove]:
    """Moves that put the version in production and retire or keep the previous ones."""
    v = state.version
    done = f"policy {policy.tier} satisfied"
    if policy.auto_approve:
        done = f"auto-approved: policy {policy.tier} needs no human approval"
    moves = approve_moves(state, done)
    if v.stage != "production":
        moves.append(StageMove(v.version, "approved", "production", f"{CHAMPION} → {v.ref}"))
    others = sorted(n for n, s in state.stages.items() if s == "production" and n != v.version)
    previous = state.model.aliases.get(CHAMPION)
    if policy.multiple_production:
        others = [n for n in others if n == previous and policy.previous == "retire"]
    after = "retired" if policy.previous == "retire" else "approved"
    reason = f"{v.ref} became {CHAMPION} (policy {policy.tier}: previous={policy.previous})"
    return moves + [StageMove(n, "production", after, reason) for n in others]


def promote(
    store: MetadataStore, name: str, version: int, *, actor: str, home: Path | None = None
) -> AliasMove:
    """Point ``champion`` at ``version``, putting it in production, if its policy allows."""

    def plan(state: GovernanceState) -> list[StageMove]:
        policy = load_policy(state.model.risk_tier, home)
        gaps = production_gaps(state, policy)
        if gaps:
            raise PolicyViolationError(
                f"cannot make {state.version.ref} {CHAMPION} (production): policy "
                f"{policy.tier!r} needs {' and '.join(gaps)}",
                hint=f"see `modelward lifecycle {state.version.ref}`; docs/governance.md",
            )
        return production_moves(state, policy)

    return store.set_governed_alias(name, CHAMPION, version, actor=actor, plan=plan)


def retire(store: MetadataStore, name: str, version: int, *, actor: str) -> ModelVersion:
    """Retire a version for good (refused while ``champion`` points at it)."""

    def plan(state: GovernanceState) -> list[StageMove]:
        v = state.version
        if v.stage in TERMINAL:
            raise PolicyViolationError(f"{v.ref} is already {v.stage}; {v.stage} is final")
        if state.model.aliases.get(CHAMPION) == v.version:
            raise PolicyViolationError(
                f"cannot retire {v.ref}: it is the {CHAMPION}",
                hint=f"point {CHAMPION} at another version first: "
                f"modelward models alias {v.name} VERSION {CHAMPION}",
            )
        return [StageMove(v.version, v.stage, "retired", "retired explicitly")]

    return store.move_stages(name, version, actor=actor, plan=plan)


def validation_moves(state: GovernanceState, policy: Policy, passed: bool) -> list[StageMove]:
    """Moves after a validation: a draft that passed becomes ``validated`` (then ``approved``
    when the policy auto-approves); any other stage stays as it is."""
    v = state.version
    if not passed or v.stage not in ("draft", "validated"):
        return []
    moves = []
    if v.stage == "draft":
        moves.append(StageMove(v.version, "draft", "validated", "validation passed"))
    if policy.auto_approve:
        reason = f"auto-approved: policy {policy.tier} needs no human approval"
        moves.append(StageMove(v.version, "validated", "approved", reason))
    return moves

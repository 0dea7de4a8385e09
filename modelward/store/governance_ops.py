"""Validation reports, approvals, comments and lifecycle stage moves inside the caller's session.

Every change locks the model's row first (as alias moves do), reads the :class:`GovernanceState`,
lets the caller's :data:`Plan` decide or refuse, and writes the change, the stage moves and their
audit events in the same transaction. Two reviewers approving at once are thus serialised: the
second sees the first's approval when it counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.errors import ConflictError, InvalidInputError
from modelward.store import aliases_ops
from modelward.store.audit import append_event
from modelward.store.entities import AliasMove, ModelVersion
from modelward.store.governance_entities import (
    Approval,
    Comment,
    NewDecision,
    NewValidationReport,
    Plan,
    StageMove,
    ValidationReport,
)
from modelward.store.governance_reads import (
    approval_entity,
    belongs,
    comment_entity,
    list_comments,
    load_state,
    report_entity,
)
from modelward.store.lookup import find_model, find_version, version_entity_of
from modelward.store.tables import (
    ApprovalRow,
    CommentRow,
    ModelRow,
    ValidationReportRow,
    VersionRow,
    utcnow,
)


# --- changing -----------------------------------------------------------------------------------
def record_validation(
    session: Session, name: str, version: int, new: NewValidationReport, *, actor: str, plan: Plan
) -> ValidationReport:
    """Store a validation report, then the stage moves ``plan`` decides."""
    model, row, moves = _decide(session, name, version, plan)
    if new.digest != row.digest:
        raise ConflictError(f"{name}/{version} changed while it was being validated")
    report = ValidationReportRow(
        model_name=name,
        version=version,
        digest=new.digest,
        passed=new.passed,
        checks=new.checks,
        metrics=new.metrics,
        champion_version=new.champion_version,
        data=new.data,
        report_digest=new.report_digest,
        actor=actor,
        at=utcnow(),
    )
    session.add(report)
    session.flush()
    failed = [c["name"] for c in new.checks if c.get("status") == "failed"]
    _event(session, actor, "version.validate", name, version, None, _summary(report, failed))
    apply_moves(session, model, moves, actor)
    return report_entity(report)


def record_decision(
    session: Session, name: str, version: int, new: NewDecision, *, actor: str, plan: Plan
) -> Approval:
    """Record one reviewer's approval or rejection, then the stage moves ``plan`` decides.

    Each reviewer decides once per version: the same decision again returns the first one.
    """
    model = find_model(session, name, lock=True)
    row = find_version(session, model, version)
    mine = session.scalars(
        select(ApprovalRow).where(
            ApprovalRow.model_name == name,
            ApprovalRow.version == version,
            ApprovalRow.actor == actor,
        )
    ).one_or_none()
    decided = mine is not None and belongs(mine.digest, mine.at, row)
    if mine is not None and decided and new.digest == row.digest:
        if mine.decision == new.decision:
            return approval_entity(mine)
        raise ConflictError(
            f"{actor} already decided on {name}/{version}: {mine.decision} at {mine.at:%Y-%m-%d %H:%M} UTC",
            hint="a reviewer decides once per version; comment instead, or register a new version",
        )
    moves = plan(load_state(session, model, row))  # refuses a digest other than the version's
    if decided:
        raise ConflictError(f"{actor} already decided on {name}/{version}")
    if mine is None:  # a row of an earlier version with this number is overwritten
        mine = ApprovalRow(model_name=name, version=version, actor=actor)
        session.add(mine)
    mine.digest, mine.decision, mine.role = new.digest, new.decision, new.role
    mine.comment, mine.at = new.comment, utcnow()
    session.flush()
    after = {"id": mine.id, "digest": new.digest, "role": new.role, "comment": new.comment}
    _event(session, actor, f"version.{new.decision}", name, version, None, after)
    apply_moves(session, model, moves, actor)
    return approval_entity(mine)


def move_stages(
    session: Session, name: str, version: int, *, actor: str, plan: Plan
) -> ModelVersion:
    """Apply the stage moves ``plan`` decides for a version (an explicit retirement, say)."""
    model, row, moves = _decide(session, name, version, plan)
    apply_moves(session, model, moves, actor)
    return version_entity_of(session, model, row)


def set_governed_alias(
    session: Session, name: str, alias: str, version: int, *, actor: str, plan: Plan
) -> AliasMove:
    """Move an alias and apply the stage moves ``plan`` decides, in one transaction."""
    model, _, moves = _decide(session, name, version, plan)
    move = aliases_ops.set_alias(session, name, alias, version, actor=actor)
    apply_moves(session, model, moves, actor)
    return move


def add_comment(
    session: Session, name: str, version: int, text: str, parent_id: int | None, *, actor: str
) -> Comment:
    """Add a comment (a reply when ``parent_id`` is given) to a version."""
    model = find_model(session, name, lock=True)
    row = find_version(session, model, version)
    if parent_id is not None:
        parent = session.get(CommentRow, parent_id)
        if parent is None or (parent.model_name, parent.version) != (name, version):
            known = [c.id for c in list_comments(session, name, version)]
            raise InvalidInputError(
                f"comment {parent_id} is not a comment on {name}/{version}",
                hint=f"comments on it: {', '.join(map(str, known)) or 'none yet'}",
            )
    comment = CommentRow(
        model_name=name,
        version=row.version,
        parent_id=parent_id,
        text=text,
        actor=actor,
        at=utcnow(),
    )
    session.add(comment)
    session.flush()
    after = {"id": comment.id, "parent_id": parent_id, "text": text}
    _event(session, actor, "version.comment", name, version, None, after)
    return comment_entity(comment)


def record_policy(
    session: Session, tier: str, before: dict[str, Any] | None, after: dict[str, Any], actor: str
) -> None:
    """Audit a change of a risk tier's policy."""
    append_event(
        session,
        actor=actor,
        action="policy.set",
        object_type="policy",
        object_id=tier,
        before=before,
        after=after,
    )


def apply_moves(session: Session, model: ModelRow, moves: Sequence[StageMove], actor: str) -> None:
    """Change stages as planned, each with its ``version.stage`` audit event."""
    for move in moves:
        row = find_version(session, model, move.version)
        if row.stage != move.before:  # the plan read this very transaction: a bug if it differs
            raise ConflictError(
                f"{model.name}/{move.version} is {row.stage}, not {move.before}; retry"
            )
        row.stage = move.after
        _event(
            session,
            actor,
            "version.stage",
            model.name,
            move.version,
            {"stage": move.before},
            {"stage": move.after, "reason": move.reason},
        )


# --- helpers ------------------------------------------------------------------------------------
def _decide(
    session: Session, name: str, version: int, plan: Plan
) -> tuple[ModelRow, VersionRow, Sequence[StageMove]]:
    model = find_model(session, name, lock=True)
    row = find_version(session, model, version)
    return model, row, plan(load_state(session, model, row))


def _event(
    session: Session,
    actor: str,
    action: str,
    name: str,
    version: int,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    append_event(
        session,
        actor=actor,
        action=action,
        object_type="version",
        object_id=f"{name}/{version}",
        before=before,
        after=after,
    )


def _summary(row: ValidationReportRow, failed: list[str]) -> dict[str, Any]:
    return {
        "report_id": row.id,
        "passed": row.passed,
        "failed_checks": failed,
        "digest": row.digest,
        "report_digest": row.report_digest,
        "champion_version": row.champion_version,
    }

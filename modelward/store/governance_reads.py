"""Reading governance records (reports, approvals, comments, change history) of one version.

Records belong to a version when they carry its digest and were made after it was created: a
deleted and re-registered version number starts afresh.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.errors import NotFoundError
from modelward.store.governance_entities import (
    Approval,
    Comment,
    GovernanceState,
    ValidationReport,
)
from modelward.store.lookup import find_model, find_version, model_entity_of, version_entity_of
from modelward.store.tables import (
    ApprovalRow,
    AuditEventRow,
    CommentRow,
    ModelRow,
    ValidationReportRow,
    VersionRow,
)


def load_state(session: Session, model: ModelRow, row: VersionRow) -> GovernanceState:
    """Everything a lifecycle decision about ``row`` needs."""
    stages = session.execute(
        select(VersionRow.version, VersionRow.stage).where(VersionRow.model_id == model.id)
    ).all()
    return GovernanceState(
        model=model_entity_of(session, model),
        version=version_entity_of(session, model, row),
        approvals=tuple(_approvals(session, model.name, row)),
        reports=tuple(_reports(session, model.name, row)),
        history=tuple(_history(session, f"{model.name}/{row.version}")),
        stages={number: stage for number, stage in stages},
    )


def governance_state(session: Session, name: str, version: int) -> GovernanceState:
    """The state of one version, for display (decisions read it under the lock instead)."""
    model = find_model(session, name)
    return load_state(session, model, find_version(session, model, version))


def list_reports(session: Session, name: str, version: int) -> list[ValidationReport]:
    """Validation reports of a version, oldest first."""
    model = find_model(session, name)
    return _reports(session, name, find_version(session, model, version))


def get_report(session: Session, report_id: int) -> ValidationReport:
    """One validation report by id."""
    row = session.get(ValidationReportRow, report_id)
    if row is None:
        raise NotFoundError(f"validation report {report_id} not found")
    return report_entity(row)


def list_approvals(session: Session, name: str, version: int) -> list[Approval]:
    """Approvals and rejections of a version, oldest first."""
    model = find_model(session, name)
    return _approvals(session, name, find_version(session, model, version))


def list_comments(session: Session, name: str, version: int) -> list[Comment]:
    """Comments on a version, oldest first."""
    model = find_model(session, name)
    row = find_version(session, model, version)
    rows = session.scalars(
        _of_version(select(CommentRow), CommentRow, name, row).order_by(CommentRow.id)
    )
    return [comment_entity(r) for r in rows]


def belongs(digest: str, at: Any, row: VersionRow) -> bool:
    """True when a record was made about this very version, not an earlier one of that number."""
    return bool(digest == row.digest and at >= row.created_at)


def _of_version(query: Any, table: Any, name: str, row: VersionRow) -> Any:
    return query.where(
        table.model_name == name, table.version == row.version, table.at >= row.created_at
    )


def _approvals(session: Session, name: str, row: VersionRow) -> list[Approval]:
    query = _of_version(select(ApprovalRow), ApprovalRow, name, row)
    rows = session.scalars(
        query.where(ApprovalRow.digest == row.digest).order_by(ApprovalRow.at, ApprovalRow.id)
    )
    return [approval_entity(r) for r in rows]


def _reports(session: Session, name: str, row: VersionRow) -> list[ValidationReport]:
    query = _of_version(select(ValidationReportRow), ValidationReportRow, name, row)
    query = query.where(ValidationReportRow.digest == row.digest)
    return [report_entity(r) for r in session.scalars(query.order_by(ValidationReportRow.id))]


def _history(session: Session, object_id: str) -> list[tuple[str, str]]:
    """(actor, action) of the version's audit events since its (latest) creation."""
    events = AuditEventRow
    created = session.scalar(
        select(func.max(events.seq)).where(
            events.object_type == "version",
            events.object_id == object_id,
            events.action == "version.create",
        )
    )
    rows = session.execute(
        select(events.actor, events.action)
        .where(
            events.object_type == "version",
            events.object_id == object_id,
            events.seq >= (created or 0),
        )
        .order_by(events.seq)
    ).all()
    return [(actor, action) for actor, action in rows]


def report_entity(row: ValidationReportRow) -> ValidationReport:
    """The entity for a report row."""
    return ValidationReport(
        id=row.id,
        name=row.model_name,
        version=row.version,
        digest=row.digest,
        passed=row.passed,
        checks=list(row.checks or []),
        metrics=dict(row.metrics or {}),
        champion_version=row.champion_version,
        data=dict(row.data or {}),
        report_digest=row.report_digest,
        actor=row.actor,
        at=row.at,
    )


def approval_entity(row: ApprovalRow) -> Approval:
    """The entity for an approval row."""
    return Approval(
        id=row.id,
        name=row.model_name,
        version=row.version,
        digest=row.digest,
        decision=row.decision,
        role=row.role,
        comment=row.comment,
        actor=row.actor,
        at=row.at,
    )


def comment_entity(row: CommentRow) -> Comment:
    """The entity for a comment row."""
    return Comment(
        id=row.id,
        name=row.model_name,
        version=row.version,
        parent_id=row.parent_id,
        text=row.text,
        actor=row.actor,
        at=row.at,
    )

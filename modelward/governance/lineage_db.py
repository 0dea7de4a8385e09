"""Read-only queries behind lineage, trace and model cards: the store's engine and the
governance tables (validation reports, approvals) as JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from modelward.errors import ConfigurationError
from modelward.store.entities import ModelVersion
from modelward.store.tables import ApprovalRow, ValidationReportRow

if TYPE_CHECKING:
    from modelward.client import Client


def store_engine(client: Client) -> Engine:
    """The SQLAlchemy engine of the client's metadata store (governance reads go through it)."""
    engine = getattr(client.registry.store, "engine", None)
    if not isinstance(engine, Engine):
        raise ConfigurationError(
            "audit, lineage and model cards need a SQL metadata store",
            hint="point MODELWARD_DATABASE_URL at SQLite or PostgreSQL",
        )
    return engine


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 text."""
    return value.isoformat() if value is not None else None


def validation_reports(engine: Engine, version: ModelVersion) -> list[dict[str, Any]]:
    """The validation reports of this very version, oldest first."""
    table = ValidationReportRow
    with Session(engine) as session:
        rows = session.scalars(_of_version(select(table), table, version).order_by(table.id))
        return [
            {
                "id": r.id,
                "at": iso(r.at),
                "actor": r.actor,
                "passed": r.passed,
                "digest": r.digest,
                "metrics": dict(r.metrics or {}),
                "checks": list(r.checks or []),
                "failed_checks": [c.get("name") for c in r.checks or [] if _failed(c)],
                "champion_version": r.champion_version,
                "data": dict(r.data or {}),
                "report_digest": r.report_digest,
            }
            for r in rows
        ]


def approvals(engine: Engine, version: ModelVersion) -> list[dict[str, Any]]:
    """Approvals and rejections of this very version, oldest first."""
    table = ApprovalRow
    with Session(engine) as session:
        rows = session.scalars(_of_version(select(table), table, version).order_by(table.at))
        return [
            {
                "actor": r.actor,
                "at": iso(r.at),
                "decision": r.decision,
                "role": r.role,
                "comment": r.comment,
                "digest": r.digest,
            }
            for r in rows
        ]


def _of_version(query: Any, table: Any, version: ModelVersion) -> Any:
    """Records about this version: its number, its artifact, made since it was registered (a
    deleted and re-registered version number starts afresh, as in the lifecycle checks)."""
    return query.where(
        table.model_name == version.name,
        table.version == version.version,
        table.digest == version.digest,
        table.at >= version.created_at,
    )


def _failed(check: Any) -> bool:
    return isinstance(check, dict) and check.get("status") == "failed"

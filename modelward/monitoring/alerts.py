"""Alerts: breached monitors, deduplicated while unresolved, with a small status machine.

``open → acknowledged → resolved`` (``open → resolved`` too). Every raise, acknowledgement and
resolution writes an audit event (``alert.raised``, ``alert.acknowledged``, ``alert.resolved``)
in the same transaction as the change, so the webhook dispatcher delivers alerts like any other
event, and an alert is never lost even when no webhook answers. A breach of a monitor that
already has an unresolved alert only counts up ``count`` and moves ``last_seen``: one alert
(and one event) per episode, not one per run.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.errors import ConflictError, InvalidInputError, NotFoundError
from modelward.store.audit import append_event
from modelward.store.engine import WRITE_OPTION
from modelward.store.sql import SqlStore
from modelward.store.tables import AlertRow, AuditHeadRow, utcnow

log = logging.getLogger(__name__)

STATUSES = ("open", "acknowledged", "resolved")
UNRESOLVED = ("open", "acknowledged")
#: Who acts when the monitors themselves raise or resolve an alert.
SYSTEM_ACTOR = "modelward.monitor"
_TRANSITIONS = {("open", "acknowledged"), ("open", "resolved"), ("acknowledged", "resolved")}
_LOG_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.ERROR}


@dataclass(frozen=True)
class Alert:
    """One alert, as stored."""

    id: int
    model: str
    version: int | None
    monitor: str
    metric: str
    severity: str
    status: str
    value: float | None
    threshold: str
    window_start: datetime
    window_end: datetime
    first_seen: datetime
    last_seen: datetime
    count: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 strings."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Breach:
    """What a monitor found when its threshold was crossed."""

    model: str
    version: int | None
    monitor: str
    metric: str
    severity: str
    value: float
    threshold: str
    window_start: datetime
    window_end: datetime
    message: str


def _write(store: SqlStore) -> Session:
    return Session(store.engine.execution_options(**{WRITE_OPTION: True}))


def _lock_chain(session: Session) -> None:
    """Serialise alert writers on the audit head (which every event locks anyway), so two
    schedulers never open two alerts for one monitor."""
    session.scalars(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one()


def _unresolved(session: Session, model: str, monitor: str) -> AlertRow | None:
    query = (
        select(AlertRow)
        .where(
            AlertRow.model == model, AlertRow.monitor == monitor, AlertRow.status.in_(UNRESOLVED)
        )
        .order_by(AlertRow.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def raise_alert(store: SqlStore, breach: Breach, *, now: datetime | None = None) -> Alert:
    """Open an alert for ``breach``, or count it on the monitor's unresolved alert."""
    moment = now or utcnow()
    with _write(store) as session, session.begin():
        _lock_chain(session)
        row = _unresolved(session, breach.model, breach.monitor)
        if row is not None:
            row.count += 1
            row.last_seen = moment
            row.value, row.severity, row.message = breach.value, breach.severity, breach.message
            row.window_start, row.window_end = breach.window_start, breach.window_end
            session.flush()
            return _entity(row)
        row = AlertRow(
            **asdict(breach),
            status="open",
            first_seen=moment,
            last_seen=moment,
            count=1,
        )
        session.add(row)
        session.flush()
        alert = _entity(row)
        _event(session, "alert.raised", SYSTEM_ACTOR, None, alert)
    log.log(
        _LOG_LEVELS[alert.severity],
        "alert %d raised (%s) on %s: %s",
        alert.id,
        alert.severity,
        alert.model,
        alert.message,
    )
    return alert


def acknowledge(
    store: SqlStore, alert_id: int, *, actor: str, now: datetime | None = None
) -> Alert:
    """Someone is on it: ``open → acknowledged``."""
    return _move(store, alert_id, "acknowledged", actor, now or utcnow())


def resolve(store: SqlStore, alert_id: int, *, actor: str, now: datetime | None = None) -> Alert:
    """It is over: ``open|acknowledged → resolved``."""
    return _move(store, alert_id, "resolved", actor, now or utcnow())


def resolve_recovered(
    store: SqlStore, model: str, monitor: str, *, value: float, now: datetime | None = None
) -> Alert | None:
    """Resolve the monitor's unresolved alert (if any) because its metric is back in range."""
    with Session(store.engine) as session:
        row = _unresolved(session, model, monitor)
        alert_id = row.id if row is not None else None
    if alert_id is None:
        return None
    note = f"recovered: {monitor} is {value:g}"
    try:
        return _move(store, alert_id, "resolved", SYSTEM_ACTOR, now or utcnow(), note=note)
    except ConflictError:
        return None  # resolved by someone else meanwhile


def _move(
    store: SqlStore, alert_id: int, target: str, actor: str, moment: datetime, note: str = ""
) -> Alert:
    with _write(store) as session, session.begin():
        _lock_chain(session)
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFoundError(
                f"no alert {alert_id}", hint="modelward monitor alerts lists the alerts"
            )
        if (row.status, target) not in _TRANSITIONS:
            raise ConflictError(
                f"alert {alert_id} is {row.status}; it cannot become {target}",
                hint="alerts go open → acknowledged → resolved (or open → resolved)",
            )
        before = _entity(row)
        row.status = target
        if target == "acknowledged":
            row.acknowledged_by, row.acknowledged_at = actor, moment
        else:
            row.resolved_by, row.resolved_at = actor, moment
        session.flush()
        alert = _entity(row)
        _event(session, f"alert.{target}", actor, before, alert, note)
    log.info("alert %d %s by %s%s", alert_id, target, actor, f" ({note})" if note else "")
    return alert


def _event(
    session: Session, action: str, actor: str, before: Alert | None, after: Alert, note: str = ""
) -> None:
    body = after.to_dict()
    if note:
        body["note"] = note
    append_event(
        session,
        actor=actor,
        action=action,
        object_type="alert",
        object_id=str(after.id),
        before=before.to_dict() if before else None,
        after=body,
    )


def get_alert(store: SqlStore, alert_id: int) -> Alert:
    """One alert by id."""
    with Session(store.engine) as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFoundError(
                f"no alert {alert_id}", hint="modelward monitor alerts lists the alerts"
            )
        return _entity(row)


def list_alerts(
    store: SqlStore, *, model: str | None = None, status: str | None = None, limit: int = 100
) -> list[Alert]:
    """Alerts, newest first, filtered by model and status."""
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            f"unknown alert status {status!r}", hint=f"use one of: {', '.join(STATUSES)}"
        )
    query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    if model is not None:
        query = query.where(AlertRow.model == model)
    if status is not None:
        query = query.where(AlertRow.status == status)
    with Session(store.engine) as session:
        return [_entity(r) for r in session.scalars(query)]


def _entity(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        model=row.model,
        version=row.version,
        monitor=row.monitor,
        metric=row.metric,
        severity=row.severity,
        status=row.status,
        value=row.value,
        threshold=row.threshold,
        window_start=row.window_start,
        window_end=row.window_end,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        count=row.count,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        message=row.message,
    )

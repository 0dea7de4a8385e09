"""The audit-chain writer: each event's hash covers the previous hash and the event itself.

``hash = sha256(prev_hash || canonical JSON)``; the canonical JSON is stored verbatim in
``payload`` so verification never depends on how a backend round-trips types. Writers lock the
one ``audit_head`` row, so concurrent transactions extend the chain one after another.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.store.entities import AuditEvent
from modelward.store.tables import AuditEventRow, AuditHeadRow, utcnow

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, payload: str) -> str:
    """The hash of one link."""
    return hashlib.sha256(prev_hash.encode("ascii") + payload.encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
) -> AuditEventRow:
    """Add one event to the chain inside the caller's transaction."""
    head = session.scalars(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one()
    at = utcnow()
    seq = head.seq + 1
    payload = canonical_json(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "before": before,
            "after": after,
        }
    )
    digest = chain_hash(head.hash, payload)
    row = AuditEventRow(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(row)
    head.seq, head.hash = seq, digest
    return row


def to_event(row: AuditEventRow) -> AuditEvent:
    """The entity for a stored event."""
    data = json.loads(row.payload)
    return AuditEvent(
        seq=row.seq,
        at=datetime.fromisoformat(data["at"]),
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        before=data.get("before"),
        after=data.get("after"),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def read_events(
    session: Session,
    *,
    object_type: str | None,
    object_id: str | None,
    since: datetime | None,
    limit: int | None,
) -> list[AuditEvent]:
    """Stored events matching every given filter, in chain order."""
    query = select(AuditEventRow).order_by(AuditEventRow.seq)
    if object_type:
        query = query.where(AuditEventRow.object_type == object_type)
    if object_id:
        query = query.where(AuditEventRow.object_id == object_id)
    if since:
        query = query.where(AuditEventRow.at >= since)
    if limit:
        query = query.limit(limit)
    return [to_event(r) for r in session.scalars(query)]

"""The audit trail, read-only: filter events, verify the hash chain, export it as JSON lines.

Events are written only by the store, in the same transaction as the change they record
(``modelward/store/audit.py``); nothing here or anywhere else edits or deletes them.
Verification recomputes every link from the stored rows, so it trusts nothing but the payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, ScalarResult, func, or_, select
from sqlalchemy.orm import Session

from modelward.batch.files import AtomicFile
from modelward.errors import AuditChainBrokenError, InvalidInputError
from modelward.governance.lineage_db import store_engine
from modelward.refs import PREFIX
from modelward.store.audit import GENESIS, chain_hash, to_event
from modelward.store.entities import AuditEvent
from modelward.store.tables import AuditEventRow, AuditHeadRow

if TYPE_CHECKING:
    from modelward.client import Client

#: Columns stored beside the payload; each must equal the same key inside it.
STRUCTURED = ("seq", "actor", "action", "object_type", "object_id")
_BATCH = 1000


@dataclass(frozen=True)
class ChainStatus:
    """An intact chain: how many events, and the head every later event will build on."""

    events: int
    head_seq: int
    head_hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or time; one without a zone is taken as UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInputError(
            f"--since {text!r} is not an ISO 8601 time",
            hint="write e.g. 2024-05-01 or 2024-05-01T12:00:00+00:00",
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def audit_log(
    client: Client,
    *,
    object_ref: str | None = None,
    since: datetime | str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events matching every filter, oldest first; ``limit`` keeps the most recent ones.

    ``object_ref`` is an object id (``churn/3``, ``churn@champion``); a bare model name also
    matches its versions and aliases.
    """
    if limit is not None and limit < 1:
        raise InvalidInputError(f"limit must be 1 or more, not {limit}")
    query = select(AuditEventRow).order_by(AuditEventRow.seq.desc())
    if object_ref:
        query = query.where(_object_filter(object_ref))
    if since is not None:
        query = query.where(
            AuditEventRow.at >= (parse_since(since) if isinstance(since, str) else since)
        )
    if actor:
        query = query.where(AuditEventRow.actor == actor)
    if action:
        query = query.where(AuditEventRow.action == action)
    if limit:
        query = query.limit(limit)
    with Session(store_engine(client)) as session:
        return [_event(row) for row in reversed(session.scalars(query).all())]


def _event(row: AuditEventRow) -> AuditEvent:
    try:
        return to_event(row)
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditChainBrokenError(
            row.seq, f"its payload cannot be read ({exc})", hint="run 'modelward audit verify'"
        ) from exc


def _object_filter(ref: str) -> Any:
    ident = ref.strip().removeprefix(PREFIX)
    exact = AuditEventRow.object_id == ident
    if "/" in ident or "@" in ident:
        return exact
    # substr, not LIKE: model names may hold '_' and SQLite's LIKE ignores letter case
    return or_(
        exact,
        *(
            func.substr(AuditEventRow.object_id, 1, len(ident) + 1) == ident + sep
            for sep in ("/", "@")
        ),
    )


# --- verification -----------------------------------------------------------------------------
def verify_audit(client: Client) -> ChainStatus:
    """Recompute the whole chain; raise :class:`AuditChainBrokenError` at the first broken link."""
    with _snapshot(store_engine(client)) as session:
        with _stream(session) as rows:
            count, last_hash = check_links(rows)
        head = session.execute(
            select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
        ).one_or_none()
    if head is None:
        raise AuditChainBrokenError(count, "the audit_head row is missing")
    head_seq, head_hash = int(head[0]), str(head[1])
    if (head_seq, head_hash) != (count, last_hash):
        raise _head_mismatch(head_seq, count)
    return ChainStatus(events=count, head_seq=head_seq, head_hash=head_hash)


def check_links(rows: Iterable[AuditEventRow]) -> tuple[int, str]:
    """Walk the events in ``seq`` order; the number of events and the last hash if all hold."""
    prev_hash, expected = GENESIS, 1
    for row in rows:
        _check_event(row, expected, prev_hash)
        prev_hash, expected = row.hash, expected + 1
    return expected - 1, prev_hash


def _check_event(row: AuditEventRow, expected: int, prev_hash: str) -> None:
    if row.seq != expected:
        gone = (
            f"event {expected} is"
            if row.seq == expected + 1
            else f"events {expected}-{row.seq - 1} are"
        )
        raise AuditChainBrokenError(
            expected, f"{gone} missing (the next stored event is {row.seq})"
        )
    consistent = chain_hash(row.prev_hash, row.payload) == row.hash
    if row.prev_hash != prev_hash:
        if consistent and expected > 1:  # this row still hashes: the one before it was rewritten
            raise AuditChainBrokenError(
                expected - 1,
                f"its hash no longer matches the prev_hash recorded by event {row.seq}; "
                f"event {expected - 1} was rewritten after event {row.seq} was written",
            )
        raise AuditChainBrokenError(
            row.seq, "its prev_hash does not match the hash of the event before it"
        )
    if not consistent:
        raise AuditChainBrokenError(
            row.seq, "its hash does not match sha256(prev_hash ‖ payload): the payload changed"
        )
    try:
        data = json.loads(row.payload)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise AuditChainBrokenError(row.seq, "its payload is not a JSON object")
    for field in STRUCTURED:
        if data.get(field) != getattr(row, field):
            raise AuditChainBrokenError(
                row.seq,
                f"stored {field} {getattr(row, field)!r} differs from the hashed payload's "
                f"{data.get(field)!r}",
            )
    if _payload_time(data) != row.at:
        raise AuditChainBrokenError(
            row.seq,
            f"stored time {row.at.isoformat()} differs from the hashed payload's {data.get('at')!r}",
        )


def _payload_time(data: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return None


def _head_mismatch(head_seq: int, count: int) -> AuditChainBrokenError:
    if head_seq == count:
        return AuditChainBrokenError(
            count,
            f"audit_head records another hash for the last event {count}: it was rewritten",
        )
    if head_seq > count:
        return AuditChainBrokenError(
            count + 1,
            f"audit_head says the chain ends at event {head_seq}, but the last stored event is "
            f"{count}: events were removed from the end",
        )
    return AuditChainBrokenError(
        head_seq + 1,
        f"events {head_seq + 1}-{count} lie beyond audit_head (event {head_seq}): "
        "they were added outside modelward",
    )


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Session]:
    """One read transaction that sees a single state of the chain while writers go on."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session, session.begin():
        yield session


@contextmanager
def _stream(session: Session) -> Iterator[ScalarResult[AuditEventRow]]:
    """Every event in ``seq`` order, fetched in batches; the cursor is closed even when a
    broken link stops the walk half-way."""
    rows = session.scalars(
        select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=_BATCH)
    )
    try:
        yield rows
    finally:
        rows.close()


# --- export -----------------------------------------------------------------------------------
def exported_event(row: AuditEventRow) -> dict[str, Any]:
    """One line of an export: the stored columns, the exact hashed payload, both hashes."""
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "payload": row.payload,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def export_audit(client: Client, out: str | Path) -> int:
    """Write every event as JSON lines to ``out`` (atomically); returns how many."""
    count = 0
    engine = store_engine(client)
    with _snapshot(engine) as session, _stream(session) as rows, AtomicFile(Path(out)) as fh:
        for row in rows:
            line = json.dumps(exported_event(row), ensure_ascii=False, separators=(",", ":"))
            fh.write(line.encode("utf-8") + b"\n")
            count += 1
    return count

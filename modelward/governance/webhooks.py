"""Events to webhooks: every audit event is an event; subscribers get them HMAC-signed, with retries.

The audit chain is the outbox: a dispatcher turns new audit events into delivery rows for the
webhooks whose filters match, then POSTs the due ones. A delivery that fails is retried with
exponential backoff and, after ``MAX_ATTEMPTS``, marked failed — the event itself stays in the
audit chain, nothing is lost, and the delivery log says what happened. Signing secrets are
derived from a key file outside the database (``MODELWARD_WEBHOOK_KEY_FILE``), never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.config import Settings
from modelward.errors import InvalidInputError, NotFoundError
from modelward.governance.keys import load_or_create
from modelward.store.audit import append_event, to_event
from modelward.store.engine import WRITE_OPTION
from modelward.store.sql import SqlStore
from modelward.store.tables import AuditEventRow, AuditHeadRow, DeliveryRow, WebhookRow, utcnow

ENV_KEY_FILE = "MODELWARD_WEBHOOK_KEY_FILE"
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 2.0
BACKOFF_MAX = 3600.0
SIGNATURE_HEADER = "X-Modelward-Signature"
#: Sends one request: (url, body, headers) → HTTP status; raises OSError-like errors on failure.
Sender = Callable[[str, bytes, dict[str, str]], int]


@dataclass(frozen=True)
class Webhook:
    """A subscriber."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


def key(settings: Settings) -> bytes:
    """The master key the signing secrets are derived from."""
    given = os.environ.get(ENV_KEY_FILE)
    path = Path(given).expanduser() if given else settings.home / "keys" / "webhooks.key"
    return load_or_create(path, setting=ENV_KEY_FILE)


def secret(settings: Settings, webhook_id: int) -> str:
    """The signing secret of a webhook (shown to its owner; derivable, so never stored)."""
    return hmac.new(key(settings), f"webhook:{webhook_id}".encode(), hashlib.sha256).hexdigest()


def sign(secret_text: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret_text.encode(), body, hashlib.sha256).hexdigest()


def _write(store: SqlStore) -> Session:
    return Session(store.engine.execution_options(**{WRITE_OPTION: True}))


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"webhook URL {url!r} is not an http(s) URL",
            hint="e.g. https://hooks.example.org/modelward",
        )
    if parts.username or parts.password:
        raise InvalidInputError(
            "a webhook URL must not carry credentials", hint="verify the signature header instead"
        )
    return url


def add(store: SqlStore, url: str, events: Sequence[str], *, actor: str) -> Webhook:
    """Subscribe ``url`` to events whose action starts with one of ``events`` (all when empty).

    Only events from now on are sent.
    """
    _check_url(url)
    filters = [e.strip() for e in events if e.strip()]
    with _write(store) as session, session.begin():
        head = session.scalars(select(AuditHeadRow).where(AuditHeadRow.id == 1)).one()
        row = WebhookRow(
            url=url,
            events=filters,
            active=True,
            after_seq=head.seq,
            created_by=actor,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        append_event(
            session,
            actor=actor,
            action="webhook.create",
            object_type="webhook",
            object_id=str(row.id),
            after={"url": url, "events": filters},
        )
        return _entity(row)


def remove(store: SqlStore, webhook_id: int, *, actor: str) -> None:
    """Stop delivering to a webhook (its delivery log goes with it)."""
    with _write(store) as session, session.begin():
        row = session.get(WebhookRow, webhook_id)
        if row is None:
            raise NotFoundError(
                f"no webhook {webhook_id}", hint="modelward webhooks list shows them"
            )
        append_event(
            session,
            actor=actor,
            action="webhook.delete",
            object_type="webhook",
            object_id=str(webhook_id),
            before={"url": row.url, "events": row.events},
        )
        session.delete(row)


def list_webhooks(store: SqlStore) -> list[Webhook]:
    """Every webhook."""
    with Session(store.engine) as session:
        return [_entity(r) for r in session.scalars(select(WebhookRow).order_by(WebhookRow.id))]


def deliveries(
    store: SqlStore, *, webhook_id: int | None = None, state: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The delivery log, newest first."""
    query = select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(limit)
    if webhook_id is not None:
        query = query.where(DeliveryRow.webhook_id == webhook_id)
    if state is not None:
        query = query.where(DeliveryRow.state == state)
    with Session(store.engine) as session:
        return [
            {
                "id": d.id,
                "webhook": d.webhook_id,
                "event": d.seq,
                "state": d.state,
                "attempts": d.attempts,
                "last_status": d.last_status,
                "last_error": d.last_error,
                "next_attempt_at": d.next_attempt_at.isoformat(),
                "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            }
            for d in session.scalars(query)
        ]


def dispatch(
    store: SqlStore, settings: Settings, send: Sender, *, now: datetime | None = None
) -> dict[str, int]:
    """Queue new events for their webhooks, then try every due delivery once; returns counts."""
    moment = now or utcnow()
    queued = _enqueue(store, moment)
    counts = {"queued": queued, "delivered": 0, "retrying": 0, "failed": 0}
    with Session(store.engine) as session:
        due = session.execute(
            select(DeliveryRow.id, DeliveryRow.webhook_id, DeliveryRow.seq)
            .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= moment)
            .order_by(DeliveryRow.id)
        ).all()
    for delivery_id, webhook_id, seq in due:
        counts[_attempt(store, settings, send, delivery_id, webhook_id, seq, moment)] += 1
    return counts


def _enqueue(store: SqlStore, moment: datetime) -> int:
    count = 0
    with _write(store) as session, session.begin():
        for hook in session.scalars(select(WebhookRow).where(WebhookRow.active.is_(True))):
            done = session.scalar(
                select(func.max(DeliveryRow.seq)).where(DeliveryRow.webhook_id == hook.id)
            )
            start = max(hook.after_seq, done or 0)
            last = start
            events = (
                select(AuditEventRow).where(AuditEventRow.seq > start).order_by(AuditEventRow.seq)
            )
            for event in session.scalars(events):
                last = event.seq
                if event.object_type == "webhook" or not _matches(hook.events, event.action):
                    continue
                session.add(
                    DeliveryRow(
                        webhook_id=hook.id,
                        seq=event.seq,
                        state="pending",
                        attempts=0,
                        next_attempt_at=moment,
                    )
                )
                count += 1
            hook.after_seq = last  # how far we looked, even when nothing matched
    return count


def _matches(filters: list[str], action: str) -> bool:
    return not filters or any(action.startswith(f) for f in filters)


def _attempt(
    store: SqlStore,
    settings: Settings,
    send: Sender,
    delivery_id: int,
    webhook_id: int,
    seq: int,
    moment: datetime,
) -> str:
    with Session(store.engine) as session:
        hook = session.get(WebhookRow, webhook_id)
        event = session.get(AuditEventRow, seq)
        assert hook is not None and event is not None
        body = json.dumps(
            {"delivery": delivery_id, "event": to_event(event).to_dict()}, sort_keys=True
        ).encode()
        url = hook.url
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret(settings, webhook_id), body),
        "X-Modelward-Event": to_event(event).action,
        "X-Modelward-Delivery": str(delivery_id),
    }
    status: int | None = None
    error: str | None = None
    try:
        status = send(url, body, headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except Exception as exc:  # unreachable, refused, timed out: retry later
        error = f"{type(exc).__name__}: {exc}"
    with _write(store) as session, session.begin():
        row = session.get(DeliveryRow, delivery_id)
        assert row is not None
        row.attempts += 1
        row.last_status, row.last_error = status, error
        if error is None:
            row.state, row.delivered_at = "delivered", moment
            return "delivered"
        if row.attempts >= MAX_ATTEMPTS:
            row.state = "failed"
            return "failed"
        delay = min(BACKOFF_SECONDS * 2 ** (row.attempts - 1), BACKOFF_MAX)
        row.next_attempt_at = moment + timedelta(seconds=delay)
        return "retrying"


def http_sender(timeout: float = 10.0) -> Sender:
    """A sender over httpx (redirects are not followed: a webhook answers where it is)."""
    import httpx

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        return httpx.post(url, content=body, headers=headers, timeout=timeout).status_code

    return send


def _entity(row: WebhookRow) -> Webhook:
    return Webhook(
        row.id, row.url, list(row.events or []), row.active, row.created_by, row.created_at
    )

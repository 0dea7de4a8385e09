"""Users and API tokens inside the caller's session, and :class:`AuthStore` to run them.

Only a token's sha256 and its prefix are stored, never the token. Each change writes an audit
event in the same transaction; noting when a token was last used does not (it is bookkeeping,
throttled by the caller, and would flood the chain).
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from modelward.errors import (
    AlreadyExistsError,
    ConflictError,
    StoreUnavailableError,
    TokenNotFoundError,
    UserNotFoundError,
)
from modelward.store.audit import append_event
from modelward.store.auth_entities import ApiToken, StoredToken, User
from modelward.store.engine import WRITE_OPTION, safe_url
from modelward.store.tables import AuditHeadRow, TokenRow, UserRow, utcnow

T = TypeVar("T")
_CONFLICT_RETRIES = 5


def _user(row: UserRow) -> User:
    return User(row.name, row.role, row.disabled, row.created_at)


def _token(row: TokenRow, user_name: str) -> ApiToken:
    return ApiToken(
        row.prefix,
        user_name,
        row.description,
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )


def _serialise(session: Session) -> None:
    """Lock the audit head now rather than at the end: checks that count rows stay true."""
    session.scalars(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one()


# --- users -------------------------------------------------------------------------------------
def find_user(session: Session, name: str, *, lock: bool = False) -> UserRow:
    """The row of user ``name``; the error lists the users there are."""
    query = select(UserRow).where(UserRow.name == name)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        known = list(session.scalars(select(UserRow.name).order_by(UserRow.name)))
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        hint += f"users: {', '.join(known[:20])}" if known else "there are no users yet"
        raise UserNotFoundError(f"user {name!r} not found", hint=hint)
    return row


def insert_user(session: Session, name: str, role: str, *, actor: str) -> User:
    """Add a user (enabled) and its audit event; :class:`AlreadyExistsError` when taken."""
    clash = session.scalar(select(UserRow.name).where(func.lower(UserRow.name) == name.lower()))
    if clash is not None:
        raise AlreadyExistsError(f"a user named {clash!r} already exists")
    row = UserRow(name=name, role=role, disabled=False, created_at=utcnow())
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=name,
        after={"role": role},
    )
    return _user(row)


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]


def count_users(session: Session) -> int:
    """How many users there are, disabled ones included."""
    return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


def set_disabled(
    session: Session, name: str, disabled: bool, *, actor: str, keep_one: str | None
) -> User:
    """Disable or enable a user; refused when no enabled user of role ``keep_one`` would remain."""
    _serialise(session)
    row = find_user(session, name, lock=True)
    if row.disabled == disabled:
        return _user(row)
    if disabled and keep_one is not None and row.role == keep_one:
        others = session.scalar(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.role == keep_one, UserRow.disabled.is_(False), UserRow.id != row.id)
        )
        if not others:
            raise ConflictError(
                f"{name} is the last enabled {keep_one}; disabling it would leave nobody able "
                "to manage users",
                hint=f"create or enable another {keep_one} first",
            )
    row.disabled = disabled
    append_event(
        session,
        actor=actor,
        action="user.disable" if disabled else "user.enable",
        object_type="user",
        object_id=name,
        before={"disabled": not disabled},
        after={"disabled": disabled},
    )
    return _user(row)


# --- tokens ------------------------------------------------------------------------------------
def insert_token(
    session: Session,
    user_name: str,
    prefix: str,
    token_hash: str,
    *,
    description: str | None,
    expires_at: datetime | None,
    actor: str,
) -> ApiToken:
    """Add a token for an enabled user; :class:`AlreadyExistsError` when the prefix is taken."""
    user = find_user(session, user_name)
    if user.disabled:
        raise ConflictError(f"user {user_name} is disabled", hint="enable the user first")
    if session.scalar(select(TokenRow.id).where(TokenRow.prefix == prefix)) is not None:
        raise AlreadyExistsError(f"a token with prefix {prefix} already exists")
    row = TokenRow(
        user_id=user.id,
        prefix=prefix,
        hash=token_hash,
        description=description,
        created_at=utcnow(),
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="token.create",
        object_type="token",
        object_id=prefix,
        after={
            "user": user_name,
            "description": description,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return _token(row, user_name)


def first_admin(
    session: Session, name: str, role: str, prefix: str, token_hash: str, *, actor: str
) -> tuple[User, ApiToken] | None:
    """Create user ``name`` with a token only while there are no users at all (else ``None``)."""
    _serialise(session)  # two concurrent `init`s: the second sees the first one's user
    if count_users(session):
        return None
    user = insert_user(session, name, role, actor=actor)
    token = insert_token(
        session,
        name,
        prefix,
        token_hash,
        description="first admin, created by modelward init",
        expires_at=None,
        actor=actor,
    )
    return user, token


def list_tokens(session: Session, user_name: str | None) -> list[ApiToken]:
    """Tokens of one user (or of all), oldest first."""
    query = select(TokenRow, UserRow.name).join(UserRow, UserRow.id == TokenRow.user_id)
    if user_name is not None:
        query = query.where(UserRow.id == find_user(session, user_name).id)
    rows = session.execute(query.order_by(TokenRow.id)).all()
    return [_token(token, name) for token, name in rows]


def revoke_token(session: Session, prefix: str, *, actor: str) -> ApiToken:
    """Revoke the token with ``prefix``; revoking it again changes nothing."""
    found = session.execute(
        select(TokenRow, UserRow.name)
        .join(UserRow, UserRow.id == TokenRow.user_id)
        .where(TokenRow.prefix == prefix)
        .with_for_update()
    ).one_or_none()
    if found is None:
        raise TokenNotFoundError(
            f"no token with prefix {prefix!r}",
            hint="`modelward tokens list` shows the prefixes (mw_ and 8 characters)",
        )
    row, user_name = found
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        append_event(
            session,
            actor=actor,
            action="token.revoke",
            object_type="token",
            object_id=prefix,
            after={"user": user_name, "revoked_at": row.revoked_at.isoformat()},
        )
    return _token(row, user_name)


def tokens_with_prefix(session: Session, prefix: str) -> list[StoredToken]:
    """The tokens stored under ``prefix`` (one, unless random prefixes collided), with users."""
    rows = session.execute(
        select(TokenRow, UserRow)
        .join(UserRow, UserRow.id == TokenRow.user_id)
        .where(TokenRow.prefix == prefix)
    ).all()
    return [StoredToken(t.id, t.hash, _token(t, u.name), _user(u)) for t, u in rows]


def touch_token(session: Session, token_id: int, at: datetime, stale_before: datetime) -> None:
    """Set ``last_used_at`` unless it is already later than ``stale_before``."""
    session.execute(
        update(TokenRow)
        .where(
            TokenRow.id == token_id,
            or_(TokenRow.last_used_at.is_(None), TokenRow.last_used_at < stale_before),
        )
        .values(last_used_at=at)
    )


# --- transactions ------------------------------------------------------------------------------
class AuthStore:
    """Runs the functions above in transactions on a store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnavailableError(
                f"cannot use the metadata database at {safe_url(self.engine.url)}: {reason}",
                hint="check that the database is running and MODELWARD_DATABASE_URL is right",
            ) from exc

    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a read-only session."""
        with self._translated(), Session(self.engine) as session:
            return work(session)

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction, retrying when a concurrent writer won a race."""
        engine = self.engine.execution_options(**{WRITE_OPTION: True})
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with self._translated(), Session(engine) as session, session.begin():
                    return work(session)
            except IntegrityError:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

"""Users and API tokens: the service that the CLI and the control-plane API both call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from modelward.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
)
from modelward.governance.auth import (
    check_role,
    check_user_name,
    generate_token,
    hash_matches,
    invalid_token,
    token_prefix,
)
from modelward.store import auth_ops
from modelward.store.auth_entities import ApiToken, User
from modelward.store.auth_ops import AuthStore
from modelward.store.base import MetadataStore
from modelward.store.sql import SqlStore
from modelward.store.tables import utcnow

ADMIN = "admin"
#: ``last_used_at`` is written at most this often per token: not a write on every request.
TOUCH_INTERVAL = timedelta(minutes=1)
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True)
class Caller:
    """An authenticated API caller: the user, and the prefix of the token it used."""

    user: User
    token_prefix: str

    @property
    def name(self) -> str:
        """The user's name, recorded as the actor of what the caller changes."""
        return self.user.name


def auth_store(store: MetadataStore) -> AuthStore:
    """The users-and-tokens store on the same database (and engine) as ``store``."""
    if not isinstance(store, SqlStore):
        raise ConfigurationError(
            f"users and tokens need the SQL metadata store, not {type(store).__name__}"
        )
    return AuthStore(store.engine)


# --- users -------------------------------------------------------------------------------------
def create_user(auth: AuthStore, name: str, role: str, *, actor: str) -> User:
    """Create an enabled user with ``role`` (no token: see :func:`create_token`)."""
    check_user_name(name)
    check_role(role)
    return auth.write(lambda s: auth_ops.insert_user(s, name, role, actor=actor))


def list_users(auth: AuthStore) -> list[User]:
    """Every user, by name."""
    return auth.read(auth_ops.list_users)


def has_users(auth: AuthStore) -> bool:
    """True once any user exists (disabled ones count)."""
    return auth.read(auth_ops.count_users) > 0


def disable_user(auth: AuthStore, name: str, *, actor: str) -> User:
    """Disable a user: its tokens stop working; refused for the last enabled admin."""
    return auth.write(lambda s: auth_ops.set_disabled(s, name, True, actor=actor, keep_one=ADMIN))


def enable_user(auth: AuthStore, name: str, *, actor: str) -> User:
    """Undo :func:`disable_user`; the user's tokens that are neither revoked nor expired work again."""
    return auth.write(lambda s: auth_ops.set_disabled(s, name, False, actor=actor, keep_one=ADMIN))


def create_first_admin(auth: AuthStore, name: str, *, actor: str) -> tuple[User, str] | None:
    """Create admin ``name`` and its token while no user exists; ``None`` once one does.

    Returns the user and the token, which is shown once and never stored.
    """
    check_user_name(name)
    new = generate_token()
    created = auth.write(
        lambda s: auth_ops.first_admin(s, name, ADMIN, new.prefix, new.hash, actor=actor)
    )
    return None if created is None else (created[0], new.secret)


# --- tokens ------------------------------------------------------------------------------------
def create_token(
    auth: AuthStore,
    user: str,
    *,
    actor: str,
    expires_days: int | None = None,
    description: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``: its record, and the token itself, shown once and never stored."""
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise InvalidInputError(
            f"expiry of {expires_days} days is out of range", hint=f"1 to {MAX_EXPIRY_DAYS} days"
        )
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    for attempt in range(3):  # prefixes are 32 random bits: a clash is rare, a retry cures it
        new = generate_token()
        try:
            record = auth.write(
                partial(
                    auth_ops.insert_token,
                    user_name=user,
                    prefix=new.prefix,
                    token_hash=new.hash,
                    description=description,
                    expires_at=expires_at,
                    actor=actor,
                )
            )
        except AlreadyExistsError:
            if attempt == 2:
                raise
            continue
        return record, new.secret
    raise AssertionError("unreachable")


def list_tokens(auth: AuthStore, user: str | None = None) -> list[ApiToken]:
    """Tokens of ``user`` (or everyone's), oldest first: prefixes and dates, never secrets."""
    return auth.read(lambda s: auth_ops.list_tokens(s, user))


def revoke_token(auth: AuthStore, prefix: str, *, actor: str) -> ApiToken:
    """Revoke a token by its prefix; at once and for good."""
    return auth.write(lambda s: auth_ops.revoke_token(s, prefix, actor=actor))


def authenticate(auth: AuthStore, secret: str | None) -> Caller:
    """The caller a token belongs to; :class:`AuthenticationError` unless it is valid now."""
    if not secret:
        raise AuthenticationError(
            "no API token given",
            hint="send 'Authorization: Bearer TOKEN'; an admin creates tokens with "
            "`modelward tokens create USER`",
        )
    prefix = token_prefix(secret)
    candidates = auth.read(lambda s: auth_ops.tokens_with_prefix(s, prefix))
    stored = next((t for t in candidates if hash_matches(secret, t.hash)), None)
    if stored is None:
        raise invalid_token()
    # From here on the caller holds a real token, so saying what is wrong with it leaks nothing.
    now = utcnow()
    token = stored.token
    if token.revoked_at is not None:
        raise AuthenticationError(
            f"API token {prefix} was revoked at {token.revoked_at:%Y-%m-%d %H:%M} UTC",
            hint="ask an admin for a new token",
        )
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthenticationError(
            f"API token {prefix} expired at {token.expires_at:%Y-%m-%d %H:%M} UTC",
            hint="ask an admin for a new token",
        )
    if stored.user.disabled:
        raise AuthenticationError(
            f"user {stored.user.name} is disabled", hint="ask an admin to enable the user"
        )
    if token.last_used_at is None or token.last_used_at < now - TOUCH_INTERVAL:
        auth.write(lambda s: auth_ops.touch_token(s, stored.id, now, now - TOUCH_INTERVAL))
    return Caller(stored.user, prefix)

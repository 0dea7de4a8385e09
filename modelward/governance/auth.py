"""Roles, the permission table, and API tokens (random, shown once, stored as sha256).

A token reads ``mw_1a2b3c4d_<secret>``: the part up to the second underscore is its *prefix*,
stored in clear to find the token and to name it in listings; the secret is
``secrets.token_urlsafe(32)`` (256 bits). Only the sha256 of the whole token is stored. A slow
password hash would add nothing for a secret this long, and sha256 keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from modelward.errors import AuthenticationError, InvalidInputError, PermissionDeniedError

ROLES = ("viewer", "data_scientist", "reviewer", "operator", "admin")

#: Every permission and what it allows; docs/access-control.md shows the same table (a test checks).
PERMISSIONS: dict[str, str] = {
    "models:read": "list, search and read models, versions, aliases and alias history",
    "models:write": "register versions; create models, edit description, tags, goals, card",
    "aliases:write": "set and remove aliases (moving `champion` puts a version in production)",
    "versions:archive": "archive and restore versions",
    "versions:delete": "delete versions and whole models",
    "audit:read": "read the audit trail",
    "lifecycle:validate": "validate versions and record validation reports",
    "lifecycle:approve": "approve or reject versions",
    "comments:write": "comment on versions",
    "policies:write": "set a risk tier's governance policy; lower a model's risk tier",
    "users:admin": "create, list, disable and enable users; create, list and revoke any token",
}

#: Which role holds which permission; ``admin`` holds them all.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"models:read"}),
    "data_scientist": frozenset(
        {
            "models:read",
            "models:write",
            "aliases:write",
            "versions:archive",
            "lifecycle:validate",
            "comments:write",
        }
    ),
    "reviewer": frozenset(
        {"models:read", "audit:read", "lifecycle:validate", "lifecycle:approve", "comments:write"}
    ),
    "operator": frozenset(
        {"models:read", "aliases:write", "versions:archive", "audit:read", "comments:write"}
    ),
    "admin": frozenset(PERMISSIONS),
}

TOKEN_PREFIX = "mw_"
_TOKEN = re.compile(r"^(mw_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


def check_role(role: str) -> str:
    """``role`` when it is a known role; :class:`InvalidInputError` naming the roles otherwise."""
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    return role


def check_user_name(name: str) -> str:
    """``name`` when it is a valid user name; :class:`InvalidInputError` otherwise."""
    if not isinstance(name, str) or not _USER_NAME.match(name):
        raise InvalidInputError(
            f"invalid user name {name!r}",
            hint="use 1-128 letters, digits, '_', '-', '.' or '@', starting with a letter or digit",
        )
    return name


def roles_with(permission: str) -> list[str]:
    """The roles that hold ``permission``, in the order of :data:`ROLES`."""
    return [r for r in ROLES if permission in ROLE_PERMISSIONS[r]]


def require(role: str, permission: str) -> None:
    """Return when ``role`` holds ``permission``; raise :class:`PermissionDeniedError` otherwise."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")  # a bug in a route, not the caller
    if permission in ROLE_PERMISSIONS.get(role, frozenset()):
        return
    raise PermissionDeniedError(
        permission,
        f"permission {permission} is needed; role {role} does not have it",
        hint=f"roles with {permission}: {', '.join(roles_with(permission))} "
        "(an admin changes roles; see docs/access-control.md)",
    )


@dataclass(frozen=True)
class NewToken:
    """A freshly generated token: ``secret`` is shown once and never stored."""

    secret: str
    prefix: str
    hash: str


def generate_token() -> NewToken:
    """A new random token with its prefix and hash."""
    prefix = TOKEN_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(secret, prefix, hash_token(secret))


def hash_token(secret: str) -> str:
    """The stored form of a token: sha256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_prefix(secret: str) -> str:
    """The prefix of a well-formed token; :class:`AuthenticationError` for anything else."""
    match = _TOKEN.match(secret)
    if match is None:
        raise invalid_token()
    return match.group(1)


def hash_matches(secret: str, stored_hash: str) -> bool:
    """True when ``secret`` hashes to ``stored_hash`` (compared in constant time)."""
    return hmac.compare_digest(hash_token(secret), stored_hash)


def invalid_token() -> AuthenticationError:
    """The one error for malformed, unknown and forged tokens: it tells an attacker nothing."""
    return AuthenticationError(
        "invalid API token",
        hint="send 'Authorization: Bearer TOKEN' with a token from `modelward tokens create`",
    )

"""Users and API tokens as the store returns them (a token itself is never stored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from modelward.store.entities import from_json


@dataclass(frozen=True)
class User:
    """Someone (or some service) that may call the control-plane API."""

    name: str
    role: str
    disabled: bool
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> User:
        """The user from its :meth:`to_dict` form."""
        return from_json(cls, data)


@dataclass(frozen=True)
class ApiToken:
    """What is known about a token: never the token itself."""

    prefix: str
    user: str
    description: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        out["status"] = self.status(datetime.now(UTC))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApiToken:
        """The token record from its :meth:`to_dict` form (``status`` is recomputed, not read)."""
        return from_json(cls, data)


@dataclass(frozen=True)
class StoredToken:
    """A token row as authentication needs it: its hash and its user."""

    id: int
    hash: str
    token: ApiToken
    user: User

"""Users and tokens over the control-plane API (``users:admin``), and ``/me``."""

from __future__ import annotations

import builtins
from typing import Any

from modelward.remote.transport import Transport, quote, rebuild
from modelward.store.auth_entities import ApiToken, User


class RemoteUsers:
    """User and token methods of :class:`~modelward.remote.RemoteClient` (same names and
    answers as the ``modelward.governance.users`` service functions)."""

    _http: Transport

    def me(self) -> dict[str, Any]:
        """Who the token belongs to: ``name``, ``role``, ``token`` (its prefix), ``permissions``."""
        found: dict[str, Any] = self._http.json("GET", "/me")
        return found

    def list_users(self) -> builtins.list[User]:
        """Every user, by name."""
        return [rebuild(User.from_dict, u) for u in self._http.json("GET", "/users")]

    def create_user(self, name: str, role: str) -> User:
        """Create a user with a role (no token yet)."""
        body = {"name": name, "role": role}
        return rebuild(User.from_dict, self._http.json("POST", "/users", body=body))

    def disable_user(self, name: str) -> User:
        """Disable a user: its tokens stop working (refused for the last enabled admin)."""
        answer = self._http.json("POST", f"/users/{quote(name)}/disable")
        return rebuild(User.from_dict, answer)

    def enable_user(self, name: str) -> User:
        """Enable a disabled user again."""
        answer = self._http.json("POST", f"/users/{quote(name)}/enable")
        return rebuild(User.from_dict, answer)

    def create_token(
        self, user: str, *, expires_days: int | None = None, description: str | None = None
    ) -> tuple[ApiToken, str]:
        """A new token for ``user``: its record and the token itself, shown this once."""
        body = {"expires_days": expires_days, "description": description}
        answer = self._http.json("POST", f"/users/{quote(user)}/tokens", body=body)
        return rebuild(ApiToken.from_dict, answer), str(answer["token"])

    def list_tokens(self, user: str | None = None) -> builtins.list[ApiToken]:
        """Tokens of ``user`` (or everyone's), oldest first; never the tokens themselves."""
        found = self._http.json("GET", "/tokens", query={"user": user})
        return [rebuild(ApiToken.from_dict, t) for t in found]

    def revoke_token(self, prefix: str) -> ApiToken:
        """Revoke a token at once and for good."""
        answer = self._http.json("POST", f"/tokens/{quote(prefix)}/revoke")
        return rebuild(ApiToken.from_dict, answer)

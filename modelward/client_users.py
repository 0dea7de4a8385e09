"""Users and API tokens in the SDK: the embedded client manages them in its own database
(the remote client, :mod:`modelward.remote`, through the control-plane API)."""

from __future__ import annotations

import builtins

from modelward.config import Settings
from modelward.governance import users
from modelward.registry.service import Registry
from modelward.store.auth_entities import ApiToken, User
from modelward.store.auth_ops import AuthStore


class UsersClient:
    """User and token methods of :class:`~modelward.client.Client`."""

    settings: Settings

    @property
    def registry(self) -> Registry:  # provided by Client
        raise NotImplementedError

    def _auth(self) -> AuthStore:
        return users.auth_store(self.registry.store)

    def list_users(self) -> builtins.list[User]:
        """Every user, by name."""
        return users.list_users(self._auth())

    def create_user(self, name: str, role: str) -> User:
        """Create a user with a role (no token yet)."""
        return users.create_user(self._auth(), name, role, actor=self.settings.actor)

    def disable_user(self, name: str) -> User:
        """Disable a user: its tokens stop working (refused for the last enabled admin)."""
        return users.disable_user(self._auth(), name, actor=self.settings.actor)

    def enable_user(self, name: str) -> User:
        """Enable a disabled user again."""
        return users.enable_user(self._auth(), name, actor=self.settings.actor)

    def create_token(
        self, user: str, *, expires_days: int | None = None, description: str | None = None
    ) -> tuple[ApiToken, str]:
        """A new token for ``user``: its record and the token itself, shown this once."""
        return users.create_token(
            self._auth(),
            user,
            actor=self.settings.actor,
            expires_days=expires_days,
            description=description,
        )

    def list_tokens(self, user: str | None = None) -> builtins.list[ApiToken]:
        """Tokens of ``user`` (or everyone's); never the tokens themselves."""
        return users.list_tokens(self._auth(), user)

    def revoke_token(self, prefix: str) -> ApiToken:
        """Revoke a token at once and for good."""
        return users.revoke_token(self._auth(), prefix, actor=self.settings.actor)

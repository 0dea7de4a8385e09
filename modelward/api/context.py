"""What every route works with: the registry service, the stores, the settings."""

from __future__ import annotations

from dataclasses import dataclass, replace

from fastapi import Request

from modelward.artifacts import ArtifactStore, open_artifact_store
from modelward.client import Client
from modelward.config import Settings
from modelward.governance.users import Caller, auth_store
from modelward.registry.service import Registry
from modelward.store import open_store
from modelward.store.auth_ops import AuthStore
from modelward.store.base import MetadataStore


@dataclass
class ApiContext:
    """The stores behind the API, opened once per app."""

    settings: Settings
    store: MetadataStore
    artifacts: ArtifactStore
    auth: AuthStore

    @classmethod
    def open(cls, settings: Settings) -> ApiContext:
        """Connect to the database (migrating it) and the artifact root."""
        settings.ensure_home()
        store = open_store(settings.database_url)
        return cls(settings, store, open_artifact_store(settings.artifact_root), auth_store(store))

    def registry_for(self, caller: Caller) -> Registry:
        """The registry service acting as ``caller``: its name is the actor of every change."""
        return Registry(self.store, self.artifacts, replace(self.settings, actor=caller.name))

    def client_for(self, caller: Caller) -> Client:
        """The SDK client acting as ``caller``: its name is the actor, its role the one counted
        in approvals; it shares the app's stores, so the SDK's service functions run as is."""
        return CallerClient(self.registry_for(caller), caller.user.role)

    def close(self) -> None:
        """Release database connections."""
        self.store.close()


class CallerClient(Client):
    """A :class:`Client` on the app's open registry, acting as one API caller."""

    def __init__(self, registry: Registry, role: str) -> None:
        super().__init__(registry.settings, role=role)
        self._shared = registry

    @property
    def registry(self) -> Registry:
        """The app's registry, with the caller as actor."""
        return self._shared

    def close(self) -> None:
        """Nothing: the app owns the stores and closes them when it stops."""


def context(request: Request) -> ApiContext:
    """The app's :class:`ApiContext` (a dependency)."""
    ctx: ApiContext = request.app.state.context
    return ctx

"""``RemoteClient``: the SDK's :class:`~modelward.client.Client` speaking to a control-plane
server (``modelward server``) instead of opening the database.

It *is* a ``Client``: the same method names, arguments and return types, so code (and the CLI)
written for one runs on the other. Every metadata and governance method is a request to the
REST API; the server acts as the token's user, with the user's role. Registering builds the
package here and uploads it; loading downloads and verifies the artifact and loads it here. What
needs the store on this machine (batch scoring, serving, querying the inference log) and
anything not sent over HTTP reach :attr:`registry`, which refuses with a clear error: deny by
default, so a method added to ``Client`` later can never open a local database by mistake.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from modelward.client import Client
from modelward.config import (
    ENV_TRACKING_URI,
    REMOTE_SCHEMES,
    Settings,
    load_settings,
)
from modelward.errors import ConfigurationError, InvalidInputError
from modelward.refs import ModelRef
from modelward.registry.loaded import LoadedModel
from modelward.registry.package import build_package
from modelward.registry.service import Registry, as_ref
from modelward.remote.artifacts import load_remote, upload_package
from modelward.remote.records import RemoteRecords
from modelward.remote.transport import DEFAULT_TIMEOUT, Transport, needs_store, quote, rebuild
from modelward.remote.users import RemoteUsers
from modelward.signatures import Signature
from modelward.store.entities import AliasMove, AuditEvent, Model, ModelVersion


class RemoteClient(RemoteRecords, RemoteUsers, Client):
    """A client on the control-plane API at ``settings.tracking_uri`` with ``settings.token``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tracking_uri: str | None = None,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        base = settings or load_settings()
        uri = (tracking_uri or base.tracking_uri or "").rstrip("/")
        if not uri.lower().startswith(REMOTE_SCHEMES):
            raise ConfigurationError(
                f"a remote client needs an http(s) tracking URI, not {uri!r}",
                hint=f"set {ENV_TRACKING_URI}=http://host:8000 (where `modelward server` runs)",
            )
        base = replace(base, tracking_uri=uri, token=token or base.token)
        Client.__init__(self, base)
        self._http = Transport(uri, base.token, timeout)

    def __repr__(self) -> str:
        return f"RemoteClient({self.settings.tracking_uri!r})"

    @property
    def registry(self) -> Registry:
        """Refused: a remote client has no database or artifact root on this machine."""
        raise needs_store("this operation")

    # --- what needs the store and the artifacts here ------------------------------------------
    def register_model(
        self,
        model_or_path: Any,
        name: str,
        flavor: str | None = None,
        signature: Signature | Mapping[str, Any] | None = None,
        input_example: Any = None,
        training_data: Any = None,
        metrics: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        trust_pickle: bool = False,
        risk_tier: str | None = None,
        owner: str | None = None,
        compile: str | None = None,
    ) -> ModelVersion:
        """Build the package here (save, probe, profile, pack) and upload it as the next version
        of ``name``; the server records it as the token's user (``models:write``)."""
        with build_package(
            self.settings,
            model_or_path,
            name,
            flavor=flavor,
            signature=signature,
            input_example=input_example,
            training_data=training_data,
            metrics=metrics,
            params=params,
            tags=tags,
            description=description,
            trust_pickle=trust_pickle,
            risk_tier=risk_tier,
            owner=owner,
            compile=compile,
        ) as package:
            return upload_package(self._http, name, package)

    def load_model(self, ref: str | ModelRef) -> LoadedModel:
        """Resolve ``ref`` through the API, download and verify its artifact, and load it here."""
        return load_remote(self._http, self._resolve(ref), self.settings)

    def predict_file(self, *args: Any, **kwargs: Any) -> Any:
        """Refused in remote mode: batch scoring loads the model here."""
        raise needs_store("batch scoring")

    def serve(self, *args: Any, **kwargs: Any) -> None:
        """Refused in remote mode: serving loads the models here."""
        raise needs_store("serving models")

    def query_logs(self, *args: Any, **kwargs: Any) -> Any:
        """Refused in remote mode: the inference log lives next to the server."""
        raise needs_store("querying the inference log")

    # --- versions -----------------------------------------------------------------------------
    def get(self, ref: str | ModelRef) -> ModelVersion:
        """The version ``ref`` points at (``NAME`` = newest not archived)."""
        return self._resolve(ref)

    def versions(
        self, name: str, *, include_archived: bool = False, limit: int = 100, offset: int = 0
    ) -> builtins.list[ModelVersion]:
        """Versions of a model, newest first."""
        query = {"include_archived": str(include_archived).lower(), "offset": offset}
        found = self._paged(f"/models/{quote(name)}/versions", query, limit)
        return [rebuild(ModelVersion.from_dict, v) for v in found]

    def archive(self, ref: str | ModelRef) -> ModelVersion:
        """Hide an exact version (``NAME/N``) from listings; it stays loadable by number."""
        answer = self._http.json("POST", _exact(ref, "archive") + "/archive")
        return rebuild(ModelVersion.from_dict, answer)

    def restore(self, ref: str | ModelRef) -> ModelVersion:
        """Undo :meth:`archive`."""
        answer = self._http.json("POST", _exact(ref, "archive") + "/restore")
        return rebuild(ModelVersion.from_dict, answer)

    def delete(self, ref: str | ModelRef) -> builtins.list[ModelVersion]:
        """Delete ``NAME/N`` (one version) or ``NAME`` (the model and all its versions)."""
        parsed = as_ref(ref)
        if parsed.alias is not None:
            raise InvalidInputError(
                f"delete takes NAME/VERSION or NAME, not an alias ({parsed})",
                hint="an alias always points at a version, and such a version cannot be deleted",
            )
        if parsed.version is not None:
            versions = [self.get(parsed)]
            self._http.json("DELETE", _exact(parsed, "delete"))
            return versions
        versions = self.versions(parsed.name, include_archived=True, limit=100_000)
        self._http.json("DELETE", f"/models/{quote(parsed.name)}")
        return sorted(versions, key=lambda v: v.version)

    # --- models -------------------------------------------------------------------------------
    def list(self, *, limit: int = 100, offset: int = 0) -> builtins.list[Model]:
        """Registered models by name."""
        return self.search(limit=limit, offset=offset)

    def search(
        self,
        text: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        owner: str | None = None,
        risk_tier: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Model]:
        """Models whose name or description contains ``text`` and that match every filter."""
        query = {
            "search": text,
            "tag": [f"{k}={v}" for k, v in (tags or {}).items()],
            "owner": owner,
            "risk_tier": risk_tier,
            "offset": offset,
        }
        return [rebuild(Model.from_dict, m) for m in self._paged("/models", query, limit)]

    def get_model(self, name: str) -> Model:
        """One model, with its latest version number and aliases."""
        return rebuild(Model.from_dict, self._http.json("GET", f"/models/{quote(name)}"))

    def create_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        risk_tier: str = "medium",
        tags: Mapping[str, str] | None = None,
    ) -> Model:
        """Create an empty model (its owner defaults to the token's user)."""
        body = {
            "name": name,
            "description": description,
            "owner": owner,
            "risk_tier": risk_tier,
            "tags": dict(tags) if tags is not None else None,
        }
        return rebuild(Model.from_dict, self._http.json("POST", "/models", body=body))

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        risk_tier: str | None = None,
        tags: Mapping[str, str] | None = None,
        goals: Sequence[str | Mapping[str, Any]] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> Model:
        """Change a model's description, risk tier, tags, accuracy goals or card narrative."""
        body = {
            "description": description,
            "risk_tier": risk_tier,
            "tags": dict(tags) if tags is not None else None,
            "goals": None
            if goals is None
            else [g if isinstance(g, str) else dict(g) for g in goals],
            "card": dict(card) if card is not None else None,
        }
        sent = {k: v for k, v in body.items() if v is not None}
        answer = self._http.json("PATCH", f"/models/{quote(name)}", body=sent)
        return rebuild(Model.from_dict, answer)

    # --- aliases ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> AliasMove:
        """Point ``alias`` at ``version``; ``champion`` is checked against the policy."""
        path = f"/models/{quote(name)}/aliases/{quote(alias)}"
        answer = self._http.json("PUT", path, body={"version": version})
        return rebuild(AliasMove.from_dict, answer)

    def delete_alias(self, name: str, alias: str) -> AliasMove:
        """Remove ``alias`` from model ``name``."""
        answer = self._http.json("DELETE", f"/models/{quote(name)}/aliases/{quote(alias)}")
        return rebuild(AliasMove.from_dict, answer)

    def alias_history(self, name: str, alias: str | None = None) -> builtins.list[AliasMove]:
        """Every move of the model's aliases, oldest first."""
        found = self._http.json(
            "GET", f"/models/{quote(name)}/alias-history", query={"alias": alias}
        )
        return [rebuild(AliasMove.from_dict, m) for m in found]

    def audit_events(
        self, *, object_type: str | None = None, object_id: str | None = None
    ) -> builtins.list[AuditEvent]:
        """Audit events, in chain order."""
        query = {"object_type": object_type, "object_id": object_id, "limit": 500}
        found = self._http.pages("/audit/events", query=query)
        return [rebuild(AuditEvent.from_dict, e) for e in found]

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""


def _exact(ref: str | ModelRef, action: str) -> str:
    """The API path of an exact version; other references are refused as the registry does."""
    parsed = as_ref(ref)
    if parsed.version is None:
        raise InvalidInputError(
            f"{action} needs an exact version, not {str(parsed)!r}",
            hint=f"write {parsed.name}/VERSION",
        )
    return f"/models/{quote(parsed.name)}/versions/{parsed.version}"

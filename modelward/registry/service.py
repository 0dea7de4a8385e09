"""The registry service: register, resolve, load, alias, archive and delete model versions.

Faces (SDK, CLI, later the REST API) call these methods; nothing here knows about them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelward.artifacts import ArtifactStore
from modelward.config import Settings
from modelward.errors import InvalidInputError
from modelward.governance.lifecycle import CHAMPION, promote
from modelward.refs import ModelRef, check_name, parse_ref
from modelward.registry.loaded import LoadedModel
from modelward.registry.loading import load_blob
from modelward.registry.package import build_package, discard_blob, record_package
from modelward.signatures import Signature
from modelward.store.base import MetadataStore
from modelward.store.entities import AliasMove, ModelVersion


def as_ref(ref: str | ModelRef) -> ModelRef:
    """Parse ``ref`` unless it already is a :class:`ModelRef`."""
    return ref if isinstance(ref, ModelRef) else parse_ref(ref)


class Registry:
    """Models and versions over a metadata store and an artifact store."""

    def __init__(self, store: MetadataStore, artifacts: ArtifactStore, settings: Settings) -> None:
        self.store = store
        self.artifacts = artifacts
        self.settings = settings

    # --- registration -------------------------------------------------------------------------
    def register(
        self,
        model_or_path: Any,
        name: str,
        *,
        flavor: str | None = None,
        signature: Signature | Mapping[str, Any] | None = None,
        input_example: Any = None,
        training_data: Any = None,
        metrics: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        trust_pickle: bool = False,
        risk_tier: str | None = None,
        owner: str | None = None,
        compile: str | None = None,
    ) -> ModelVersion:
        """Store the model's artifact, then record it as the next version of ``name``."""
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
            return record_package(
                self.store, self.artifacts, name, package, actor=self.settings.actor
            )

    def _discard_blob(self, digest: str) -> None:
        """Remove a blob this process created, unless a version (now) uses it."""
        discard_blob(self.store, self.artifacts, digest)

    # --- reading ------------------------------------------------------------------------------
    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """The version a reference points at."""
        return self.store.resolve(as_ref(ref))

    def load(self, ref: str | ModelRef) -> LoadedModel:
        """Resolve, fetch and verify the artifact, and load its runtime."""
        version = self.resolve(ref)
        with self.artifacts.open_verified(version.digest) as blob:
            return load_blob(version, blob, self.settings)

    # --- changes ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> AliasMove:
        """Point ``alias`` of model ``name`` at ``version``; ``champion`` puts the version in
        production, which its risk tier's policy must allow (docs/governance.md)."""
        if alias == CHAMPION:
            actor, home = self.settings.actor, self.settings.home
            return promote(self.store, name, version, actor=actor, home=home)
        return self.store.set_alias(name, alias, version, actor=self.settings.actor)

    def delete_alias(self, name: str, alias: str) -> AliasMove:
        """Remove an alias."""
        return self.store.delete_alias(name, alias, actor=self.settings.actor)

    def archive(self, ref: str | ModelRef, *, archived: bool = True) -> ModelVersion:
        """Hide a version from default listings (or show it again); it stays loadable."""
        parsed = as_ref(ref)
        number = self._exact_version(parsed, "archive")
        return self.store.set_archived(parsed.name, number, archived, actor=self.settings.actor)

    def delete_version(self, ref: str | ModelRef) -> ModelVersion:
        """Delete a version and, when no other version shares it, its artifact."""
        parsed = as_ref(ref)
        number = self._exact_version(parsed, "delete")
        gone = self.store.delete_version(parsed.name, number, actor=self.settings.actor)
        self._discard_blob(gone.digest)
        return gone

    def delete_model(self, name: str) -> list[ModelVersion]:
        """Delete a model with all its versions and their unshared artifacts."""
        gone = self.store.delete_model(check_name(name), actor=self.settings.actor)
        for digest in {v.digest for v in gone}:
            self._discard_blob(digest)
        return gone

    @staticmethod
    def _exact_version(ref: ModelRef, action: str) -> int:
        if ref.version is None:
            raise InvalidInputError(
                f"{action} needs an exact version, not {str(ref)!r}",
                hint=f"write {ref.name}/VERSION",
            )
        return ref.version

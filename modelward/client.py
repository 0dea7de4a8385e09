"""The Python SDK: ``mw.Client`` plus the module-level ``register_model`` and ``load_model``."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from modelward.artifacts import open_artifact_store
from modelward.client_governance import GovernanceClient
from modelward.client_monitoring import MonitoringClient
from modelward.client_users import UsersClient
from modelward.config import Settings, load_settings
from modelward.errors import InvalidInputError
from modelward.governance.audit import ChainStatus, audit_log, export_audit, verify_audit
from modelward.governance.card_render import render_card
from modelward.governance.cards import Segments, build_card, update_card
from modelward.governance.goals import parse_goals
from modelward.governance.lineage import version_lineage
from modelward.governance.trace import trace_request
from modelward.monitoring.logquery import query_logs
from modelward.refs import ModelRef
from modelward.registry.loaded import LoadedModel
from modelward.registry.service import Registry, as_ref
from modelward.scoring.config import ServeConfig
from modelward.signatures import Signature
from modelward.store import open_store

if TYPE_CHECKING:
    from modelward.batch.predict import BatchResult
from modelward.store.entities import AliasMove, AuditEvent, Model, ModelVersion


class Client(GovernanceClient, MonitoringClient, UsersClient):
    """A handle on one registry (database + artifact root); opens both on first use.

    ``role`` is the role this client's user acts with in governance (approvals); it defaults to
    ``MODELWARD_ROLE``, else ``admin`` (embedded single-user mode).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        database_url: str | None = None,
        artifact_root: str | None = None,
        role: str | None = None,
    ) -> None:
        base = settings or load_settings()
        if database_url:
            base = replace(base, database_url=database_url)
        if artifact_root:
            base = replace(base, artifact_root=artifact_root)
        self.settings = base
        self._role = role
        self._registry: Registry | None = None
        self._lock = threading.Lock()

    @property
    def registry(self) -> Registry:
        """The registry service behind this client (connects and migrates on first use)."""
        with self._lock:
            if self._registry is None:
                self.settings.ensure_home()
                store = open_store(self.settings.database_url)
                artifacts = open_artifact_store(self.settings.artifact_root)
                self._registry = Registry(store, artifacts, self.settings)
            return self._registry

    # --- versions -----------------------------------------------------------------------------
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
        """Register an object, file or folder as the next version of model ``name``.

        ``compile="onnx"`` also stores an ONNX compilation of a scikit-learn model, used for
        scoring only when it matches the original on the input example (see docs/serving.md).
        """
        return self.registry.register(
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
        )

    def load_model(self, ref: str | ModelRef) -> LoadedModel:
        """Load the version ``ref`` points at, verified against its digest."""
        return self.registry.load(ref)

    def get(self, ref: str | ModelRef) -> ModelVersion:
        """The version ``ref`` points at (``NAME`` = newest not archived)."""
        return self.registry.resolve(ref)

    def versions(
        self, name: str, *, include_archived: bool = False, limit: int = 100, offset: int = 0
    ) -> builtins.list[ModelVersion]:
        """Versions of a model, newest first."""
        return self.registry.store.list_versions(
            name, include_archived=include_archived, limit=limit, offset=offset
        )

    def archive(self, ref: str | ModelRef) -> ModelVersion:
        """Hide an exact version (``NAME/N``) from listings; it stays loadable by number."""
        return self.registry.archive(ref)

    def restore(self, ref: str | ModelRef) -> ModelVersion:
        """Undo :meth:`archive`."""
        return self.registry.archive(ref, archived=False)

    def delete(self, ref: str | ModelRef) -> builtins.list[ModelVersion]:
        """Delete ``NAME/N`` (one version) or ``NAME`` (the model and all its versions)."""
        parsed = as_ref(ref)
        if parsed.version is not None:
            return [self.registry.delete_version(parsed)]
        if parsed.alias is not None:
            raise InvalidInputError(
                f"delete takes NAME/VERSION or NAME, not an alias ({parsed})",
                hint="an alias always points at a version, and such a version cannot be deleted",
            )
        return self.registry.delete_model(parsed.name)

    # --- models -------------------------------------------------------------------------------
    def list(self, *, limit: int = 100, offset: int = 0) -> builtins.list[Model]:
        """Registered models by name."""
        return self.registry.store.search_models(limit=limit, offset=offset)

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
        return self.registry.store.search_models(
            text=text, tags=tags, owner=owner, risk_tier=risk_tier, limit=limit, offset=offset
        )

    def get_model(self, name: str) -> Model:
        """One model, with its latest version number and aliases."""
        return self.registry.store.get_model(name)

    def create_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        risk_tier: str = "medium",
        tags: Mapping[str, str] | None = None,
    ) -> Model:
        """Create an empty model (registering a version creates one implicitly)."""
        return self.registry.store.create_model(
            name,
            actor=self.settings.actor,
            description=description,
            owner=owner,
            risk_tier=risk_tier,
            tags=tags,
        )

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
        """Change a model's description, risk tier, tags, accuracy goals or card narrative.

        ``goals`` are checked strictly: ``"roc_auc>=0.9"`` or ``{"metric", "min"/"max"}``.
        """
        checked = None if goals is None else [g.to_dict() for g in parse_goals(goals)]
        return self.registry.store.update_model(
            name,
            actor=self.settings.actor,
            description=description,
            risk_tier=risk_tier,
            tags=tags,
            goals=checked,
            card=card,
        )

    # --- aliases ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> AliasMove:
        """Point ``alias`` at ``version``; the move is recorded."""
        return self.registry.set_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> AliasMove:
        """Remove ``alias`` from model ``name``."""
        return self.registry.delete_alias(name, alias)

    def alias_history(self, name: str, alias: str | None = None) -> builtins.list[AliasMove]:
        """Every move of the model's aliases, oldest first."""
        return self.registry.store.alias_history(name, alias)

    def audit_events(
        self, *, object_type: str | None = None, object_id: str | None = None
    ) -> builtins.list[AuditEvent]:
        """Audit events, in chain order."""
        return self.registry.store.audit_events(object_type=object_type, object_id=object_id)

    def predict_file(
        self, ref: str | ModelRef, input_path: str | Path, output_path: str | Path, **options: Any
    ) -> BatchResult:
        """Batch-score a CSV/Parquet/JSON-lines file (options as :func:`predict_file`)."""
        from modelward.batch.predict import predict_file  # batch workers import this module

        model = self.load_model(ref)
        try:
            return predict_file(model, input_path, output_path, **options)
        finally:
            model.unload()

    def serve(self, refs: builtins.list[str], config: ServeConfig | None = None) -> None:
        """Serve models until SIGTERM/SIGINT (what ``modelward serve`` runs)."""
        from modelward.scoring.server import serve

        serve(refs, config or ServeConfig())

    def query_logs(self, sql: str) -> pd.DataFrame:
        """Run one SELECT over the inference log (view ``inference``); see docs/inference-log.md."""
        return query_logs(self.settings.home, sql)

    # --- governance: audit, lineage, track-back, model cards ----------------------------------
    def audit_log(
        self,
        *,
        object_ref: str | None = None,
        since: datetime | str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[AuditEvent]:
        """Audit events matching every filter, oldest first (``limit`` keeps the most recent)."""
        return audit_log(
            self, object_ref=object_ref, since=since, actor=actor, action=action, limit=limit
        )

    def verify_audit(self) -> ChainStatus:
        """Recompute the audit chain; ``AuditChainBrokenError`` names the first broken event."""
        return verify_audit(self)

    def export_audit(self, out: str | Path) -> int:
        """Write every audit event as JSON lines to ``out``, atomically; returns how many."""
        return export_audit(self, out)

    def lineage(self, ref: str | ModelRef) -> dict[str, Any]:
        """Upstream (data, code, params, environment, parent) and downstream of a version."""
        return version_lineage(self, ref)

    def trace(self, request_id: str) -> dict[str, Any]:
        """One request traced back: record → version → artifact → data → validation → approvals."""
        return trace_request(self, request_id)

    def model_card(
        self, ref: str | ModelRef, *, format: str = "md", segments: Segments | None = None
    ) -> str:
        """The model card of a version as ``md``, ``html`` or ``json`` text."""
        return render_card(build_card(self, ref, segments=segments), format)

    def update_card(self, name: str, **fields: str | None) -> Model:
        """Set narrative fields of a model's card (``None`` clears one)."""
        return update_card(self, name, fields)

    def close(self) -> None:
        """Release database connections."""
        if self._registry is not None:
            self._registry.store.close()
            self._registry = None


_default: tuple[Settings, Client] | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """A client for the current environment's settings, reused while they stay the same."""
    global _default
    settings = load_settings()
    with _default_lock:
        if _default is None or _default[0] != settings:
            if _default is not None:
                _default[1].close()
            _default = (settings, Client(settings))
        return _default[1]


def register_model(
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
    **options: Any,
) -> ModelVersion:
    """Register a model with the default client (see :meth:`Client.register_model`)."""
    return default_client().register_model(
        model_or_path,
        name,
        flavor,
        signature,
        input_example,
        training_data,
        metrics,
        params,
        tags,
        description,
        **options,
    )


def load_model(ref: str | ModelRef) -> LoadedModel:
    """Load a model version with the default client (see :meth:`Client.load_model`)."""
    return default_client().load_model(ref)

"""The metadata store contract; :class:`~modelward.store.sql.SqlStore` implements it.

Every state-changing method takes the ``actor`` who acts and writes an audit event in the same
transaction as the change.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from modelward.refs import ModelRef
from modelward.store.entities import AliasMove, AuditEvent, Model, ModelVersion, NewVersion
from modelward.store.governance_entities import (
    Approval,
    Comment,
    GovernanceState,
    NewDecision,
    NewValidationReport,
    Plan,
    ValidationReport,
)


class MetadataStore(abc.ABC):
    """Models, versions, aliases and the audit chain."""

    # --- models -------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_model(
        self,
        name: str,
        *,
        actor: str,
        description: str | None = None,
        owner: str | None = None,
        risk_tier: str = "medium",
        tags: Mapping[str, str] | None = None,
    ) -> Model:
        """Create a model; :class:`AlreadyExistsError` when the name is taken."""

    @abc.abstractmethod
    def get_model(self, name: str) -> Model:
        """The model called ``name``; the not-found error lists close names."""

    @abc.abstractmethod
    def search_models(
        self,
        *,
        text: str | None = None,
        tags: Mapping[str, str] | None = None,
        owner: str | None = None,
        risk_tier: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Model]:
        """Models matching every given filter, by name (``text`` matches name or description)."""

    @abc.abstractmethod
    def update_model(
        self,
        name: str,
        *,
        actor: str,
        description: str | None = None,
        risk_tier: str | None = None,
        tags: Mapping[str, str] | None = None,
        goals: Sequence[Mapping[str, Any]] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> Model:
        """Change the given fields of a model (``card`` fields merge; a ``None`` value clears one)."""

    @abc.abstractmethod
    def delete_model(self, name: str, *, actor: str) -> list[ModelVersion]:
        """Delete a model and its versions (refused while it has aliases); returns the versions."""

    # --- versions -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_version(
        self,
        name: str,
        new: NewVersion,
        *,
        actor: str,
        create_model: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Record the next version of ``name``, numbered atomically.

        With ``create_model`` (keyword arguments of :meth:`create_model`), a missing model is
        created in the same transaction.
        """

    @abc.abstractmethod
    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version, archived or not."""

    @abc.abstractmethod
    def list_versions(
        self, name: str, *, include_archived: bool = False, limit: int = 100, offset: int = 0
    ) -> list[ModelVersion]:
        """Versions of a model, newest first."""

    @abc.abstractmethod
    def resolve(self, ref: ModelRef) -> ModelVersion:
        """The version a reference points at (``NAME`` = newest version not archived)."""

    @abc.abstractmethod
    def set_archived(self, name: str, version: int, archived: bool, *, actor: str) -> ModelVersion:
        """Archive (hide from listings) or restore a version."""

    @abc.abstractmethod
    def delete_version(self, name: str, version: int, *, actor: str) -> ModelVersion:
        """Delete a version's record (refused while an alias points at it)."""

    @abc.abstractmethod
    def digest_in_use(self, digest: str) -> bool:
        """True while any version refers to the artifact ``digest``."""

    # --- aliases ------------------------------------------------------------------------------
    @abc.abstractmethod
    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> AliasMove:
        """Point ``alias`` at ``version`` atomically and record the move."""

    @abc.abstractmethod
    def delete_alias(self, name: str, alias: str, *, actor: str) -> AliasMove:
        """Remove an alias and record the move."""

    @abc.abstractmethod
    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of the model's aliases (or of one alias), oldest first."""

    # --- governance (decisions come from governance/; the store makes them atomic) -----------
    @abc.abstractmethod
    def governance_state(self, name: str, version: int) -> GovernanceState:
        """A version's stage, approvals, reports and change history, for display."""

    @abc.abstractmethod
    def move_stages(self, name: str, version: int, *, actor: str, plan: Plan) -> ModelVersion:
        """Apply the stage moves ``plan`` decides under the model's lock (it may refuse)."""

    @abc.abstractmethod
    def set_governed_alias(
        self, name: str, alias: str, version: int, *, actor: str, plan: Plan
    ) -> AliasMove:
        """Move an alias and apply the stage moves ``plan`` decides, atomically."""

    @abc.abstractmethod
    def record_validation(
        self, name: str, version: int, report: NewValidationReport, *, actor: str, plan: Plan
    ) -> ValidationReport:
        """Store a validation report and the stage moves ``plan`` decides, atomically."""

    @abc.abstractmethod
    def validation_reports(self, name: str, version: int) -> list[ValidationReport]:
        """Validation reports of a version, oldest first."""

    @abc.abstractmethod
    def get_validation_report(self, report_id: int) -> ValidationReport:
        """One validation report by id."""

    @abc.abstractmethod
    def record_decision(
        self, name: str, version: int, decision: NewDecision, *, actor: str, plan: Plan
    ) -> Approval:
        """Record an approval or rejection (once per reviewer) and the moves ``plan`` decides."""

    @abc.abstractmethod
    def approvals(self, name: str, version: int) -> list[Approval]:
        """Approvals and rejections of a version, oldest first."""

    @abc.abstractmethod
    def add_comment(
        self, name: str, version: int, text: str, *, actor: str, parent_id: int | None = None
    ) -> Comment:
        """Comment on a version (a reply with ``parent_id``)."""

    @abc.abstractmethod
    def comments(self, name: str, version: int) -> list[Comment]:
        """Comments on a version, oldest first."""

    @abc.abstractmethod
    def record_policy(
        self, tier: str, before: dict[str, Any] | None, after: dict[str, Any], *, actor: str
    ) -> None:
        """Audit a change of a risk tier's policy."""

    # --- audit --------------------------------------------------------------------------------
    @abc.abstractmethod
    def audit_events(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Audit events in chain order."""

    # --- housekeeping -------------------------------------------------------------------------
    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Backend, URL (password hidden) and schema revision, for ``modelward doctor``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

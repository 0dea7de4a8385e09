"""The governance half of the SDK: validation, approvals, comments, lifecycle and policies.

:class:`modelward.client.Client` inherits these methods; they act as the client's user
(``settings.actor``) with the client's ``role`` (``MODELWARD_ROLE`` in embedded mode, default
``admin``).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.config import Settings
from modelward.errors import InvalidInputError
from modelward.governance import approvals, comments, lifecycle, policies, reports, validation
from modelward.governance.auth import check_role
from modelward.governance.goals import parse_goals
from modelward.refs import ModelRef
from modelward.registry.service import Registry, as_ref
from modelward.store.entities import ModelVersion
from modelward.store.governance_entities import Approval, Comment, GovernanceState
from modelward.store.governance_entities import ValidationReport as Report


class GovernanceClient:
    """Governance methods of :class:`~modelward.client.Client`."""

    settings: Settings
    _role: str | None = None

    @property
    def registry(self) -> Registry:  # provided by Client
        raise NotImplementedError

    @property
    def role(self) -> str:
        """The role this client acts with (approvals count it against the policy)."""
        return check_role(self._role) if self._role else approvals.embedded_role()

    # --- validation ---------------------------------------------------------------------------
    def validate(
        self,
        ref: str | ModelRef,
        data: str | Path | pd.DataFrame,
        *,
        label_column: str = validation.DEFAULT_LABEL,
        task: str | None = None,
    ) -> Report:
        """Score the version and the champion on labelled ``data``, check goals and thresholds,
        store the report; a passing draft becomes ``validated``."""
        return validation.validate(
            self.registry,
            ref,
            data,
            actor=self.settings.actor,
            label_column=label_column,
            task=task,
        )

    def validation_reports(self, ref: str | ModelRef) -> builtins.list[Report]:
        """Validation reports of the version ``ref`` points at, oldest first."""
        version = self.registry.resolve(ref)
        return self.registry.store.validation_reports(version.name, version.version)

    def report_document(self, report: Report | int) -> dict[str, Any]:
        """The stored JSON document of a validation report (verified against its digest)."""
        return reports.read_document(self.registry.artifacts, self._report_digest(report))

    def report_html(self, report: Report | int) -> str:
        """The stored, self-contained HTML page of a validation report."""
        return reports.read_html(self.registry.artifacts, self._report_digest(report))

    def _report_digest(self, report: Report | int) -> str:
        if isinstance(report, int):
            report = self.registry.store.get_validation_report(report)
        if report.report_digest is None:
            raise InvalidInputError(f"validation report {report.id} has no document")
        return report.report_digest

    # --- approvals and comments ---------------------------------------------------------------
    def approve(
        self, ref: str | ModelRef, *, comment: str | None = None, digest: str | None = None
    ) -> Approval:
        """Approve a version; ``digest`` is the artifact digest you reviewed (refused if stale)."""
        return self._decide(ref, "approve", comment, digest)

    def reject(self, ref: str | ModelRef, *, comment: str, digest: str | None = None) -> Approval:
        """Reject a version, saying why; ``rejected`` is final for that version."""
        return self._decide(ref, "reject", comment, digest)

    def _decide(
        self, ref: str | ModelRef, decision: str, comment: str | None, digest: str | None
    ) -> Approval:
        return approvals.decide(
            self.registry.store,
            ref,
            decision,
            actor=self.settings.actor,
            role=self.role,
            comment=comment,
            digest=digest,
            home=self.settings.home,
        )

    def approvals(self, ref: str | ModelRef) -> builtins.list[Approval]:
        """Approvals and rejections of a version, oldest first."""
        version = self.registry.resolve(ref)
        return self.registry.store.approvals(version.name, version.version)

    def comment(self, ref: str | ModelRef, text: str, *, reply_to: int | None = None) -> Comment:
        """Comment on a version (``reply_to``: the id of the comment answered)."""
        return comments.add_comment(
            self.registry.store, as_ref(ref), text, actor=self.settings.actor, reply_to=reply_to
        )

    def comments(self, ref: str | ModelRef) -> builtins.list[Comment]:
        """Comments on a version, oldest first."""
        return comments.list_comments(self.registry.store, as_ref(ref))

    # --- lifecycle and policies ---------------------------------------------------------------
    def retire(self, ref: str | ModelRef) -> ModelVersion:
        """Retire a version for good (refused while it is the champion)."""
        version = self.registry.resolve(ref)
        return lifecycle.retire(
            self.registry.store, version.name, version.version, actor=self.settings.actor
        )

    def governance_state(self, ref: str | ModelRef) -> GovernanceState:
        """Stage, approvals, reports and change history of a version."""
        version = self.registry.resolve(ref)
        return self.registry.store.governance_state(version.name, version.version)

    def get_policy(self, tier: str) -> policies.Policy:
        """The effective policy of a risk tier (its file, or the built-in default)."""
        return policies.load_policy(tier, self.settings.home)

    def set_policy(self, tier: str, policy: Mapping[str, Any]) -> policies.Policy:
        """Check ``policy`` strictly and write it as ``MODELWARD_HOME/policies/<tier>.yaml``
        (keys left out keep the tier's built-in values); the change is audited."""
        return policies.set_policy(
            self.registry.store, tier, policy, actor=self.settings.actor, home=self.settings.home
        )

    def set_goals(
        self, name: str, goals: Sequence[str | Mapping[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """Replace a model's accuracy goals (``"roc_auc>=0.9"`` or ``{"metric", "min"/"max"}``)."""
        checked = [g.to_dict() for g in parse_goals(goals)]
        return self.registry.store.update_model(
            name, actor=self.settings.actor, goals=checked
        ).goals

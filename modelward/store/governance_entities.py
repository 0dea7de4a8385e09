"""Governance records the store keeps: validation reports, approvals, comments, stage moves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelward.store.entities import Model, ModelVersion, Record

#: Lifecycle stages; the moves between them are decided in ``governance/lifecycle.py``.
STAGES = ("draft", "validated", "approved", "production", "retired", "rejected")


@dataclass(frozen=True)
class NewValidationReport:
    """What a validation found; the store adds the id, the actor and the time."""

    digest: str
    passed: bool
    checks: list[dict[str, Any]]
    metrics: dict[str, float]
    champion_version: int | None
    data: dict[str, Any]
    report_digest: str | None


@dataclass(frozen=True)
class ValidationReport(Record):
    """The stored outcome of validating one version; ``report_digest`` names its JSON blob."""

    id: int
    name: str
    version: int
    digest: str
    passed: bool
    checks: list[dict[str, Any]]
    metrics: dict[str, float]
    champion_version: int | None
    data: dict[str, Any]
    report_digest: str | None
    actor: str
    at: datetime

    @property
    def failed_checks(self) -> list[str]:
        """Names of the checks that failed."""
        return [c["name"] for c in self.checks if c.get("status") == "failed"]


@dataclass(frozen=True)
class NewDecision:
    """An approval or rejection about to be recorded."""

    decision: str  # approve | reject
    digest: str
    role: str
    comment: str | None


@dataclass(frozen=True)
class Approval(Record):
    """One reviewer's approval or rejection of a version, bound to the artifact digest seen."""

    id: int
    name: str
    version: int
    digest: str
    decision: str
    role: str
    comment: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class Comment(Record):
    """A comment on a version; ``parent_id`` is the comment it answers."""

    id: int
    name: str
    version: int
    parent_id: int | None
    text: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class StageMove:
    """Move ``version`` from stage ``before`` to ``after``; ``reason`` goes into the audit event."""

    version: int
    before: str
    after: str
    reason: str


@dataclass(frozen=True)
class GovernanceState:
    """What a lifecycle decision about one version needs, read inside the deciding transaction.

    ``approvals`` and ``reports`` belong to this very version (same digest, recorded after it
    was created: a deleted and re-registered version number starts afresh); ``history`` is the
    (actor, action) of every audit event on the version since it was created; ``stages`` holds
    the stage of each version of the model.
    """

    model: Model
    version: ModelVersion
    approvals: tuple[Approval, ...] = ()
    reports: tuple[ValidationReport, ...] = ()
    history: tuple[tuple[str, str], ...] = ()
    stages: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GovernanceState:
        """The state from its JSON form: ``model``, ``version``, ``approvals``, ``reports``,
        ``history`` as [actor, action] pairs and ``stages`` keyed by version number (the
        control-plane API answers this way)."""
        return cls(
            model=Model.from_dict(data["model"]),
            version=ModelVersion.from_dict(data["version"]),
            approvals=tuple(Approval.from_dict(a) for a in data.get("approvals", ())),
            reports=tuple(ValidationReport.from_dict(r) for r in data.get("reports", ())),
            history=tuple((str(actor), str(action)) for actor, action in data.get("history", ())),
            stages={int(n): str(stage) for n, stage in (data.get("stages") or {}).items()},
        )


#: Decides, from the state read under the model's lock, which stage moves a change brings; it
#: raises to refuse the change, and the store writes nothing.
Plan = Callable[[GovernanceState], Sequence[StageMove]]

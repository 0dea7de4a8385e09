"""Request bodies of the control-plane API (answers are the entities' ``to_dict``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in a field name is an error, not a no-op


class AliasBody(_Body):
    """Where an alias should point."""

    version: int = Field(ge=1, description="Version number the alias points at.")


class NewUser(_Body):
    """A user to create."""

    name: str = Field(description="User name, recorded as the actor of its changes.")
    role: str = Field(description="viewer, data_scientist, reviewer, operator or admin.")


class NewToken(_Body):
    """A token to create for a user."""

    expires_days: int | None = Field(
        default=None, description="Days until it expires; none: never."
    )
    description: str | None = Field(default=None, description="What the token is for.")


class NewModel(_Body):
    """A model to create before its first version."""

    name: str = Field(description="Model name.")
    description: str | None = Field(default=None, description="What the model is for.")
    owner: str | None = Field(default=None, description="Owner; default: the caller.")
    risk_tier: str = Field(default="medium", description="low, medium or high.")
    tags: dict[str, str] | None = Field(default=None, description="Tags NAME: VALUE.")


class ModelUpdate(_Body):
    """Fields of a model to change; those left out stay as they are."""

    description: str | None = Field(default=None, description="New description.")
    risk_tier: str | None = Field(
        default=None, description="low, medium or high; changing it needs `users:admin`."
    )
    tags: dict[str, str] | None = Field(default=None, description="Replaces every tag.")
    goals: list[str | dict[str, Any]] | None = Field(
        default=None,
        description="Replaces the accuracy goals: 'roc_auc>=0.9' or {metric, min/max}.",
    )
    card: dict[str, str | None] | None = Field(
        default=None, description="Card narrative fields to merge; null clears one."
    )


class CardFields(_Body):
    """Narrative fields of a model card to set (``null`` clears one)."""

    fields: dict[str, str | None] = Field(description="e.g. {'intended_use': '…'}.")


class Decision(_Body):
    """An approval: an optional comment, and the artifact digest the reviewer looked at."""

    comment: str | None = Field(default=None, description="Why.")
    digest: str | None = Field(
        default=None,
        description="sha256 (12-64 hex digits) of the artifact reviewed; refused if stale.",
    )


class Rejection(_Body):
    """A rejection: it must say why."""

    comment: str = Field(description="Why the version is rejected.")
    digest: str | None = Field(default=None, description="sha256 of the artifact reviewed.")


class NewComment(_Body):
    """A comment on a version, or a reply to one."""

    text: str = Field(description="The comment.")
    reply_to: int | None = Field(default=None, description="Id of the comment answered.")


class PolicyBody(_Body):
    """A policy in its file format (docs/governance.md); sections left out keep the tier's
    built-in values, and each section is checked strictly."""

    validation: dict[str, Any] | None = None
    approvals: dict[str, Any] | None = None
    production: dict[str, Any] | None = None


class ValidationRows(_Body):
    """Labelled validation data sent as JSON rows."""

    rows: list[dict[str, Any]] = Field(min_length=1, description="One object per row.")
    label_column: str = Field(default="label", description="Column of true labels.")
    task: str | None = Field(default=None, description="classification or regression.")

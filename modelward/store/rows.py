"""Conversions between table rows and domain entities."""

from __future__ import annotations

from datetime import datetime

from modelward.signatures import Signature
from modelward.store.entities import Model, ModelVersion, NewVersion
from modelward.store.tables import ModelRow, VersionRow

INITIAL_STAGE = "draft"


def model_entity(row: ModelRow, latest: int | None, aliases: dict[str, int]) -> Model:
    """The entity for a model row."""
    return Model(
        name=row.name,
        description=row.description,
        owner=row.owner,
        risk_tier=row.risk_tier,
        tags=dict(row.tags or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        latest_version=latest,
        aliases=aliases,
        goals=list(row.goals or []),
        card=dict(row.card or {}),
    )


def version_entity(name: str, row: VersionRow, aliases: tuple[str, ...]) -> ModelVersion:
    """The entity for a version row."""
    return ModelVersion(
        name=name,
        version=row.version,
        digest=row.digest,
        size_bytes=row.size_bytes,
        flavor=row.flavor,
        flavor_config=dict(row.flavor_config or {}),
        signature=Signature.from_dict(row.signature) if row.signature else None,
        input_example=row.input_example,
        metrics=dict(row.metrics or {}),
        params=dict(row.params or {}),
        tags=dict(row.tags or {}),
        lineage=dict(row.lineage or {}),
        description=row.description,
        stage=row.stage,
        archived=row.archived,
        created_by=row.created_by,
        created_at=row.created_at,
        aliases=aliases,
    )


def version_row(
    model_id: int, number: int, new: NewVersion, actor: str, at: datetime
) -> VersionRow:
    """A new version row."""
    return VersionRow(
        model_id=model_id,
        version=number,
        digest=new.digest,
        size_bytes=new.size_bytes,
        flavor=new.flavor,
        flavor_config=new.flavor_config,
        signature=new.signature.to_dict() if new.signature else None,
        input_example=new.input_example,
        metrics=new.metrics,
        params=new.params,
        tags=new.tags,
        lineage=new.lineage,
        description=new.description,
        stage=INITIAL_STAGE,
        archived=False,
        created_by=actor,
        created_at=at,
    )

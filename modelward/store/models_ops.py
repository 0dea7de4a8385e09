"""Creating, finding, changing and deleting models inside the caller's session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from modelward.errors import AliasInUseError, AlreadyExistsError
from modelward.store.audit import append_event
from modelward.store.entities import Model, ModelVersion
from modelward.store.lookup import (
    aliases_of,
    check_tier,
    clean_tags,
    find_model,
    model_entity_of,
)
from modelward.store.rows import version_entity
from modelward.store.tables import ModelRow, VersionRow, utcnow


def insert_model(
    session: Session,
    name: str,
    actor: str,
    description: str | None,
    owner: str | None,
    risk_tier: str,
    tags: Mapping[str, str] | None,
) -> ModelRow:
    """Add a model row and its audit event; :class:`AlreadyExistsError` when the name is taken."""
    check_tier(risk_tier)
    clash = session.scalar(select(ModelRow.name).where(func.lower(ModelRow.name) == name.lower()))
    if clash is not None:
        raise AlreadyExistsError(
            f"a model named {clash!r} already exists",
            hint="register a new version of it, or choose another name",
        )
    now = utcnow()
    row = ModelRow(
        name=name,
        description=description,
        owner=owner or actor,
        risk_tier=risk_tier,
        tags=clean_tags(tags),
        goals=[],
        card={},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="model.create",
        object_type="model",
        object_id=name,
        after={
            "owner": row.owner,
            "risk_tier": risk_tier,
            "description": description,
            "tags": row.tags,
        },
    )
    return row


def get_model(session: Session, name: str) -> Model:
    """The model called ``name``."""
    return model_entity_of(session, find_model(session, name))


def search_models(
    session: Session,
    *,
    text: str | None,
    tags: Mapping[str, str] | None,
    owner: str | None,
    risk_tier: str | None,
    limit: int,
    offset: int,
) -> list[Model]:
    """Models matching every given filter, by name; ``risk_tier`` must be checked already."""
    query = select(ModelRow).order_by(ModelRow.name)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(
            or_(
                func.lower(ModelRow.name).like(pattern),
                func.lower(ModelRow.description).like(pattern),
            )
        )
    if owner:
        query = query.where(ModelRow.owner == owner)
    if risk_tier:
        query = query.where(ModelRow.risk_tier == risk_tier)
    rows = session.scalars(query).all()
    if tags:  # JSON filters differ per backend; filtering here keeps one behaviour
        rows = [r for r in rows if all(r.tags.get(k) == v for k, v in tags.items())]
    return [model_entity_of(session, r) for r in rows[offset : offset + limit]]


def update_model(
    session: Session,
    name: str,
    *,
    actor: str,
    description: str | None,
    risk_tier: str | None,
    tags: Mapping[str, str] | None,
    goals: Sequence[Mapping[str, Any]] | None = None,
    card: Mapping[str, Any] | None = None,
) -> Model:
    """Change the given fields of a model under its row lock."""
    row = find_model(session, name, lock=True)
    before = _editable(row)
    if goals is not None:
        row.goals = [dict(g) for g in goals]
    if card is not None:
        row.card = {**(row.card or {}), **dict(card)}  # narrative fields merge; None clears one
        row.card = {k: v for k, v in row.card.items() if v is not None}
    if description is not None:
        row.description = description
    if risk_tier is not None:
        row.risk_tier = check_tier(risk_tier)
    if tags is not None:
        row.tags = clean_tags(tags)
    row.updated_at = utcnow()
    after = _editable(row)
    append_event(
        session,
        actor=actor,
        action="model.update",
        object_type="model",
        object_id=name,
        before=before,
        after=after,
    )
    return model_entity_of(session, row)


def delete_model(session: Session, name: str, *, actor: str) -> list[ModelVersion]:
    """Delete a model and its versions, refused while it has aliases; returns the versions."""
    row = find_model(session, name, lock=True)
    aliases = aliases_of(session, row.id)
    if aliases:
        moves = ", ".join(f"{a} → {v}" for a, v in aliases.items())
        raise AliasInUseError(
            f"model {name!r} still has aliases ({moves})",
            hint=f"remove them first: modelward models alias {name} --delete ALIAS",
        )
    versions = session.scalars(select(VersionRow).where(VersionRow.model_id == row.id)).all()
    gone = [version_entity(name, v, ()) for v in versions]
    for v in versions:
        session.delete(v)
    session.flush()
    session.delete(row)
    append_event(
        session,
        actor=actor,
        action="model.delete",
        object_type="model",
        object_id=name,
        before={
            "versions": [v.version for v in gone],
            "digests": sorted({v.digest for v in gone}),
        },
    )
    return gone


def _editable(row: ModelRow) -> dict[str, Any]:
    return {
        "description": row.description,
        "risk_tier": row.risk_tier,
        "tags": row.tags,
        "goals": row.goals,
        "card": row.card,
    }

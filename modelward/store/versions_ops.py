"""Numbering, finding, archiving and deleting model versions inside the caller's session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.errors import AliasInUseError
from modelward.refs import ModelRef
from modelward.store.audit import append_event
from modelward.store.entities import ModelVersion, NewVersion
from modelward.store.lookup import (
    aliases_of,
    explain_unresolved,
    find_model,
    find_version,
    version_entity_of,
)
from modelward.store.models_ops import insert_model
from modelward.store.rows import version_entity, version_row
from modelward.store.tables import AliasRow, ModelRow, VersionRow, utcnow


def create_version(
    session: Session,
    name: str,
    new: NewVersion,
    *,
    actor: str,
    create_model: Mapping[str, Any] | None,
) -> ModelVersion:
    """Record the next version of ``name``, numbered under the model's row lock."""
    model = session.scalars(
        select(ModelRow).where(ModelRow.name == name).with_for_update()
    ).one_or_none()
    if model is None:
        if create_model is None:
            find_model(session, name)  # raises the not-found error with a listing
        assert create_model is not None
        model = insert_model(
            session,
            name,
            actor,
            create_model.get("description"),
            create_model.get("owner"),
            create_model.get("risk_tier") or "medium",
            create_model.get("tags"),
        )
    current = session.scalar(
        select(func.max(VersionRow.version)).where(VersionRow.model_id == model.id)
    )
    row = version_row(model.id, (current or 0) + 1, new, actor, utcnow())
    session.add(row)
    model.updated_at = row.created_at
    session.flush()
    entity = version_entity(name, row, ())
    append_event(
        session,
        actor=actor,
        action="version.create",
        object_type="version",
        object_id=entity.ref,
        after={"digest": new.digest, "flavor": new.flavor},
    )
    return entity


def get_version(session: Session, name: str, version: int) -> ModelVersion:
    """One version, archived or not."""
    model = find_model(session, name)
    return version_entity_of(session, model, find_version(session, model, version))


def list_versions(
    session: Session, name: str, *, include_archived: bool, limit: int, offset: int
) -> list[ModelVersion]:
    """One page of a model's versions, newest first."""
    model = find_model(session, name)
    query = select(VersionRow).where(VersionRow.model_id == model.id)
    if not include_archived:
        query = query.where(VersionRow.archived.is_(False))
    rows = session.scalars(query.order_by(VersionRow.version.desc()).limit(limit).offset(offset))
    aliases = aliases_of(session, model.id)
    return [
        version_entity(name, r, tuple(a for a, v in aliases.items() if v == r.version))
        for r in rows
    ]


def resolve(session: Session, ref: ModelRef) -> ModelVersion:
    """The version ``ref`` points at, in one query when it exists."""
    query = select(VersionRow).join(ModelRow, ModelRow.id == VersionRow.model_id)
    query = query.where(ModelRow.name == ref.name)
    if ref.version is not None:
        query = query.where(VersionRow.version == ref.version)
    elif ref.alias is not None:
        query = query.join(AliasRow, AliasRow.version_id == VersionRow.id).where(
            AliasRow.alias == ref.alias
        )
    else:
        query = query.where(VersionRow.archived.is_(False))
        query = query.order_by(VersionRow.version.desc()).limit(1)
    row = session.scalars(query).one_or_none()  # one round trip on the common path
    if row is None:
        explain_unresolved(session, ref)
    aliases = session.scalars(
        select(AliasRow.alias).where(AliasRow.version_id == row.id).order_by(AliasRow.alias)
    ).all()
    return version_entity(ref.name, row, tuple(aliases))


def set_archived(
    session: Session, name: str, version: int, archived: bool, *, actor: str
) -> ModelVersion:
    """Archive or restore a version; archiving is refused while an alias points at it."""
    model = find_model(session, name, lock=True)
    row = find_version(session, model, version)
    if archived:
        _refuse_if_aliased(session, model, row, "archive")
    before = row.archived
    row.archived = archived
    append_event(
        session,
        actor=actor,
        action="version.archive" if archived else "version.restore",
        object_type="version",
        object_id=f"{name}/{version}",
        before={"archived": before},
        after={"archived": archived},
    )
    return version_entity_of(session, model, row)


def delete_version(session: Session, name: str, version: int, *, actor: str) -> ModelVersion:
    """Delete a version's record, refused while an alias points at it."""
    model = find_model(session, name, lock=True)
    row = find_version(session, model, version)
    _refuse_if_aliased(session, model, row, "delete")
    gone = version_entity(name, row, ())
    session.delete(row)
    append_event(
        session,
        actor=actor,
        action="version.delete",
        object_type="version",
        object_id=gone.ref,
        before={"digest": gone.digest, "flavor": gone.flavor},
    )
    return gone


def digest_in_use(session: Session, digest: str) -> bool:
    """True while any version refers to the artifact ``digest``."""
    found = session.scalar(select(VersionRow.id).where(VersionRow.digest == digest).limit(1))
    return found is not None


def _refuse_if_aliased(session: Session, model: ModelRow, row: VersionRow, what: str) -> None:
    aliases = [a for a, v in aliases_of(session, model.id).items() if v == row.version]
    if aliases:
        raise AliasInUseError(
            f"cannot {what} {model.name}/{row.version}: alias(es) {', '.join(aliases)} point at it",
            hint=f"move them first: modelward models alias {model.name} VERSION {aliases[0]}",
        )

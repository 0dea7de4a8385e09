"""Moving and removing aliases, and their history, inside the caller's session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.errors import ArchivedVersionError
from modelward.store.audit import append_event
from modelward.store.entities import AliasMove
from modelward.store.lookup import alias_not_found, find_model, find_version
from modelward.store.tables import AliasHistoryRow, AliasRow, VersionRow, utcnow


def set_alias(session: Session, name: str, alias: str, version: int, *, actor: str) -> AliasMove:
    """Point ``alias`` at ``version`` under the model's row lock and record the move."""
    model = find_model(session, name, lock=True)
    target = find_version(session, model, version)
    if target.archived:
        raise ArchivedVersionError(
            f"{name}/{version} is archived; an alias cannot point at it",
            hint="restore it first, or choose another version",
        )
    row = session.get(AliasRow, (model.id, alias))
    previous = None
    if row is None:
        row = AliasRow(model_id=model.id, alias=alias)
        session.add(row)
    else:
        previous = _version_number(session, row.version_id)
    row.version_id, row.updated_at, row.updated_by = target.id, utcnow(), actor
    return _record_move(session, name, alias, previous, version, actor)


def delete_alias(session: Session, name: str, alias: str, *, actor: str) -> AliasMove:
    """Remove ``alias`` under the model's row lock and record the move."""
    model = find_model(session, name, lock=True)
    row = session.get(AliasRow, (model.id, alias))
    if row is None:
        raise alias_not_found(session, model, name, alias)
    previous = _version_number(session, row.version_id)
    session.delete(row)
    return _record_move(session, name, alias, previous, None, actor)


def alias_history(session: Session, name: str, alias: str | None) -> list[AliasMove]:
    """Every move of the model's aliases (or of one alias), oldest first."""
    find_model(session, name)
    query = select(AliasHistoryRow).where(AliasHistoryRow.model_name == name)
    if alias is not None:
        query = query.where(AliasHistoryRow.alias == alias)
    rows = session.scalars(query.order_by(AliasHistoryRow.id)).all()
    return [AliasMove(name, r.alias, r.from_version, r.to_version, r.actor, r.at) for r in rows]


def _version_number(session: Session, version_id: int) -> int | None:
    return session.scalar(select(VersionRow.version).where(VersionRow.id == version_id))


def _record_move(
    session: Session, name: str, alias: str, old: int | None, new: int | None, actor: str
) -> AliasMove:
    at = utcnow()
    session.add(
        AliasHistoryRow(
            model_name=name, alias=alias, from_version=old, to_version=new, actor=actor, at=at
        )
    )
    append_event(
        session,
        actor=actor,
        action="alias.set" if new is not None else "alias.delete",
        object_type="alias",
        object_id=f"{name}@{alias}",
        before={"version": old},
        after={"version": new},
    )
    return AliasMove(name, alias, old, new, actor, at)

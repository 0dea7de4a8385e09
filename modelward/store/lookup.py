"""Finding rows, with not-found errors that say what does exist, and argument checks."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.errors import (
    AliasNotFoundError,
    InvalidInputError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelward.refs import ModelRef
from modelward.store.entities import RISK_TIERS, Model, ModelVersion
from modelward.store.rows import model_entity, version_entity
from modelward.store.tables import AliasRow, ModelRow, VersionRow


def find_model(session: Session, name: str, *, lock: bool = False) -> ModelRow:
    """The row of model ``name`` (locked for update with ``lock``); the error lists close names."""
    query = select(ModelRow).where(ModelRow.name == name)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        known = session.scalars(select(ModelRow.name).order_by(ModelRow.name)).all()
        raise ModelNotFoundError(f"model {name!r} not found", hint=_listing("models", known, name))
    return row


def find_version(session: Session, model: ModelRow, version: int) -> VersionRow:
    """The row of ``version`` of ``model``; the error lists the versions there are."""
    row = session.scalars(
        select(VersionRow).where(VersionRow.model_id == model.id, VersionRow.version == version)
    ).one_or_none()
    if row is None:
        known = session.scalars(
            select(VersionRow.version)
            .where(VersionRow.model_id == model.id)
            .order_by(VersionRow.version)
        ).all()
        raise VersionNotFoundError(
            f"version {version} of model {model.name!r} not found",
            hint=_listing("versions", [str(v) for v in known], None),
        )
    return row


def aliases_of(session: Session, model_id: int) -> dict[str, int]:
    """The model's aliases and the version numbers they point at, by alias."""
    rows = session.execute(
        select(AliasRow.alias, VersionRow.version)
        .join(VersionRow, VersionRow.id == AliasRow.version_id)
        .where(AliasRow.model_id == model_id)
        .order_by(AliasRow.alias)
    ).all()
    return {alias: version for alias, version in rows}


def model_entity_of(session: Session, row: ModelRow) -> Model:
    """The entity for a model row, with its latest version number and its aliases."""
    latest = session.scalar(
        select(func.max(VersionRow.version)).where(VersionRow.model_id == row.id)
    )
    return model_entity(row, latest, aliases_of(session, row.id))


def version_entity_of(session: Session, model: ModelRow, row: VersionRow) -> ModelVersion:
    """The entity for a version row, with the aliases that point at it."""
    aliases = tuple(a for a, v in aliases_of(session, model.id).items() if v == row.version)
    return version_entity(model.name, row, aliases)


def alias_not_found(session: Session, model: ModelRow, name: str, alias: str) -> AliasNotFoundError:
    """The error for a missing ``alias`` of model ``name``, listing the aliases it has."""
    aliases = aliases_of(session, model.id)
    return AliasNotFoundError(
        f"alias {alias!r} not found on model {name!r}",
        hint=_listing("aliases", [f"{a} → {v}" for a, v in aliases.items()], None),
    )


def explain_unresolved(session: Session, ref: ModelRef) -> NoReturn:
    """Raise the not-found error that says what does exist."""
    model = find_model(session, ref.name)
    if ref.version is not None:
        find_version(session, model, ref.version)
    if ref.alias is not None:
        raise alias_not_found(session, model, ref.name, ref.alias)
    raise VersionNotFoundError(
        f"model {ref.name!r} has no versions that are not archived",
        hint=f"register one, or name an archived version exactly: {ref.name}/N",
    )


def check_tier(tier: str) -> str:
    """``tier`` when it is a known risk tier; :class:`InvalidInputError` otherwise."""
    if tier not in RISK_TIERS:
        raise InvalidInputError(
            f"unknown risk tier {tier!r}", hint=f"use one of: {', '.join(RISK_TIERS)}"
        )
    return tier


def check_page(limit: int, offset: int) -> None:
    """Refuse a page with ``limit`` below 1 or a negative ``offset``."""
    if limit < 1 or offset < 0:
        raise InvalidInputError(
            f"bad page (limit={limit}, offset={offset})", hint="limit ≥ 1, offset ≥ 0"
        )


def clean_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """Tags as a plain dict of strings (``None`` gives no tags)."""
    return {str(k): str(v) for k, v in (tags or {}).items()}


def _listing(what: str, names: Sequence[str], near: str | None) -> str:
    if not names:
        return f"there are no {what} yet"
    close = difflib.get_close_matches(near, names, n=3) if near else []
    shown = ", ".join(names[:20]) + (f" … ({len(names) - 20} more)" if len(names) > 20 else "")
    prefix = f"did you mean {', '.join(close)}? " if close else ""
    return f"{prefix}{what}: {shown}"

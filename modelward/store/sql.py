"""The metadata store on SQLAlchemy: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from modelward.errors import (
    AliasInUseError,
    AliasNotFoundError,
    AlreadyExistsError,
    ArchivedVersionError,
    InvalidInputError,
    ModelNotFoundError,
    StoreUnavailableError,
    VersionNotFoundError,
)
from modelward.refs import ModelRef, check_alias, check_name
from modelward.store import migrate
from modelward.store.audit import append_event, to_event
from modelward.store.base import MetadataStore
from modelward.store.engine import WRITE_OPTION, create_store_engine, safe_url
from modelward.store.entities import (
    RISK_TIERS,
    AliasMove,
    AuditEvent,
    Model,
    ModelVersion,
    NewVersion,
)
from modelward.store.rows import model_entity, version_entity, version_row
from modelward.store.tables import (
    AliasHistoryRow,
    AliasRow,
    AuditEventRow,
    ModelRow,
    VersionRow,
    utcnow,
)

T = TypeVar("T")
_CONFLICT_RETRIES = 5


def open_store(url: str, *, upgrade: bool = True) -> SqlStore:
    """Connect to the database at ``url`` and bring its schema up to date."""
    store = SqlStore(url)
    store.connect(upgrade=upgrade)
    return store


class SqlStore(MetadataStore):
    """SQLAlchemy implementation of :class:`MetadataStore`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    def connect(self, *, upgrade: bool = True) -> None:
        """Create the engine and apply pending migrations."""
        engine = create_store_engine(self.url)
        with self._translated():
            if upgrade and migrate.current_revision(engine) != migrate.head_revision():
                migrate.upgrade(engine)
        self._engine = engine

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("SqlStore.connect() was not called")
        return self._engine

    # --- transactions -------------------------------------------------------------------------
    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise StoreUnavailableError(
                f"cannot use the metadata database at {safe_url(self.url)}: {_reason(exc)}",
                hint="check that the database is running and MODELWARD_DATABASE_URL is right",
            ) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailableError(
                    f"lost the connection to {safe_url(self.url)}: {_reason(exc)}",
                    hint="check that the database is running, then retry",
                ) from exc
            raise

    def _read(self, work: Callable[[Session], T]) -> T:
        with self._translated(), Session(self.engine) as session:
            return work(session)

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction, retrying when a concurrent writer won a race."""
        engine = self.engine.execution_options(**{WRITE_OPTION: True})
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with self._translated(), Session(engine) as session, session.begin():
                    return work(session)
            except IntegrityError:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    # --- lookups ------------------------------------------------------------------------------
    def _model_row(self, session: Session, name: str, *, lock: bool = False) -> ModelRow:
        query = select(ModelRow).where(ModelRow.name == name)
        row = session.scalars(query.with_for_update() if lock else query).one_or_none()
        if row is None:
            known = session.scalars(select(ModelRow.name).order_by(ModelRow.name)).all()
            raise ModelNotFoundError(
                f"model {name!r} not found", hint=_listing("models", known, name)
            )
        return row

    def _version_row(self, session: Session, model: ModelRow, version: int) -> VersionRow:
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

    def _aliases(self, session: Session, model_id: int) -> dict[str, int]:
        rows = session.execute(
            select(AliasRow.alias, VersionRow.version)
            .join(VersionRow, VersionRow.id == AliasRow.version_id)
            .where(AliasRow.model_id == model_id)
            .order_by(AliasRow.alias)
        ).all()
        return {alias: version for alias, version in rows}

    def _version(self, session: Session, model: ModelRow, row: VersionRow) -> ModelVersion:
        aliases = tuple(a for a, v in self._aliases(session, model.id).items() if v == row.version)
        return version_entity(model.name, row, aliases)

    def _model(self, session: Session, row: ModelRow) -> Model:
        latest = session.scalar(
            select(func.max(VersionRow.version)).where(VersionRow.model_id == row.id)
        )
        return model_entity(row, latest, self._aliases(session, row.id))

    # --- models -------------------------------------------------------------------------------
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
        check_name(name)

        def work(session: Session) -> Model:
            row = self._insert_model(session, name, actor, description, owner, risk_tier, tags)
            return self._model(session, row)

        return self._write(work)

    def _insert_model(
        self,
        session: Session,
        name: str,
        actor: str,
        description: str | None,
        owner: str | None,
        risk_tier: str,
        tags: Mapping[str, str] | None,
    ) -> ModelRow:
        _check_tier(risk_tier)
        clash = session.scalar(
            select(ModelRow.name).where(func.lower(ModelRow.name) == name.lower())
        )
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
            tags=_tags(tags),
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

    def get_model(self, name: str) -> Model:
        return self._read(lambda s: self._model(s, self._model_row(s, name)))

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
        _check_page(limit, offset)
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
            query = query.where(ModelRow.risk_tier == _check_tier(risk_tier))

        def work(session: Session) -> list[Model]:
            rows = session.scalars(query).all()
            if tags:  # JSON filters differ per backend; filtering here keeps one behaviour
                rows = [r for r in rows if all(r.tags.get(k) == v for k, v in tags.items())]
            return [self._model(session, r) for r in rows[offset : offset + limit]]

        return self._read(work)

    def update_model(
        self,
        name: str,
        *,
        actor: str,
        description: str | None = None,
        risk_tier: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Model:
        def work(session: Session) -> Model:
            row = self._model_row(session, name, lock=True)
            before = {"description": row.description, "risk_tier": row.risk_tier, "tags": row.tags}
            if description is not None:
                row.description = description
            if risk_tier is not None:
                row.risk_tier = _check_tier(risk_tier)
            if tags is not None:
                row.tags = _tags(tags)
            row.updated_at = utcnow()
            after = {"description": row.description, "risk_tier": row.risk_tier, "tags": row.tags}
            append_event(
                session,
                actor=actor,
                action="model.update",
                object_type="model",
                object_id=name,
                before=before,
                after=after,
            )
            return self._model(session, row)

        return self._write(work)

    def delete_model(self, name: str, *, actor: str) -> list[ModelVersion]:
        def work(session: Session) -> list[ModelVersion]:
            row = self._model_row(session, name, lock=True)
            aliases = self._aliases(session, row.id)
            if aliases:
                moves = ", ".join(f"{a} → {v}" for a, v in aliases.items())
                raise AliasInUseError(
                    f"model {name!r} still has aliases ({moves})",
                    hint=f"remove them first: modelward models alias {name} --delete ALIAS",
                )
            versions = session.scalars(
                select(VersionRow).where(VersionRow.model_id == row.id)
            ).all()
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

        return self._write(work)

    # --- versions -----------------------------------------------------------------------------
    def create_version(
        self,
        name: str,
        new: NewVersion,
        *,
        actor: str,
        create_model: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        check_name(name)

        def work(session: Session) -> ModelVersion:
            model = session.scalars(
                select(ModelRow).where(ModelRow.name == name).with_for_update()
            ).one_or_none()
            if model is None:
                if create_model is None:
                    self._model_row(session, name)  # raises the not-found error with a listing
                assert create_model is not None
                model = self._insert_model(
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

        return self._write(work)

    def get_version(self, name: str, version: int) -> ModelVersion:
        def work(session: Session) -> ModelVersion:
            model = self._model_row(session, name)
            return self._version(session, model, self._version_row(session, model, version))

        return self._read(work)

    def list_versions(
        self, name: str, *, include_archived: bool = False, limit: int = 100, offset: int = 0
    ) -> list[ModelVersion]:
        _check_page(limit, offset)

        def work(session: Session) -> list[ModelVersion]:
            model = self._model_row(session, name)
            query = select(VersionRow).where(VersionRow.model_id == model.id)
            if not include_archived:
                query = query.where(VersionRow.archived.is_(False))
            rows = session.scalars(
                query.order_by(VersionRow.version.desc()).limit(limit).offset(offset)
            )
            aliases = self._aliases(session, model.id)
            return [
                version_entity(name, r, tuple(a for a, v in aliases.items() if v == r.version))
                for r in rows
            ]

        return self._read(work)

    def resolve(self, ref: ModelRef) -> ModelVersion:
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

        def work(session: Session) -> ModelVersion:
            row = session.scalars(query).one_or_none()  # one round trip on the common path
            if row is None:
                self._explain_unresolved(session, ref)
            assert row is not None
            aliases = session.scalars(
                select(AliasRow.alias).where(AliasRow.version_id == row.id).order_by(AliasRow.alias)
            ).all()
            return version_entity(ref.name, row, tuple(aliases))

        return self._read(work)

    def _explain_unresolved(self, session: Session, ref: ModelRef) -> None:
        """Raise the not-found error that says what does exist."""
        model = self._model_row(session, ref.name)
        if ref.version is not None:
            self._version_row(session, model, ref.version)
        if ref.alias is not None:
            aliases = self._aliases(session, model.id)
            raise AliasNotFoundError(
                f"alias {ref.alias!r} not found on model {ref.name!r}",
                hint=_listing("aliases", [f"{a} → {v}" for a, v in aliases.items()], None),
            )
        raise VersionNotFoundError(
            f"model {ref.name!r} has no versions that are not archived",
            hint=f"register one, or name an archived version exactly: {ref.name}/N",
        )

    def set_archived(self, name: str, version: int, archived: bool, *, actor: str) -> ModelVersion:
        def work(session: Session) -> ModelVersion:
            model = self._model_row(session, name, lock=True)
            row = self._version_row(session, model, version)
            if archived:
                self._refuse_if_aliased(session, model, row, "archive")
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
            return self._version(session, model, row)

        return self._write(work)

    def _refuse_if_aliased(
        self, session: Session, model: ModelRow, row: VersionRow, what: str
    ) -> None:
        aliases = [a for a, v in self._aliases(session, model.id).items() if v == row.version]
        if aliases:
            raise AliasInUseError(
                f"cannot {what} {model.name}/{row.version}: alias(es) {', '.join(aliases)} point at it",
                hint=f"move them first: modelward models alias {model.name} VERSION {aliases[0]}",
            )

    def delete_version(self, name: str, version: int, *, actor: str) -> ModelVersion:
        def work(session: Session) -> ModelVersion:
            model = self._model_row(session, name, lock=True)
            row = self._version_row(session, model, version)
            self._refuse_if_aliased(session, model, row, "delete")
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

        return self._write(work)

    def digest_in_use(self, digest: str) -> bool:
        return self._read(
            lambda s: (
                s.scalar(select(VersionRow.id).where(VersionRow.digest == digest).limit(1))
                is not None
            )
        )

    # --- aliases ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> AliasMove:
        check_alias(alias)

        def work(session: Session) -> AliasMove:
            model = self._model_row(session, name, lock=True)
            target = self._version_row(session, model, version)
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
                previous = session.scalar(
                    select(VersionRow.version).where(VersionRow.id == row.version_id)
                )
            row.version_id, row.updated_at, row.updated_by = target.id, utcnow(), actor
            return self._record_move(session, name, alias, previous, version, actor)

        return self._write(work)

    def delete_alias(self, name: str, alias: str, *, actor: str) -> AliasMove:
        def work(session: Session) -> AliasMove:
            model = self._model_row(session, name, lock=True)
            row = session.get(AliasRow, (model.id, alias))
            if row is None:
                aliases = self._aliases(session, model.id)
                raise AliasNotFoundError(
                    f"alias {alias!r} not found on model {name!r}",
                    hint=_listing("aliases", [f"{a} → {v}" for a, v in aliases.items()], None),
                )
            previous = session.scalar(
                select(VersionRow.version).where(VersionRow.id == row.version_id)
            )
            session.delete(row)
            return self._record_move(session, name, alias, previous, None, actor)

        return self._write(work)

    def _record_move(
        self, session: Session, name: str, alias: str, old: int | None, new: int | None, actor: str
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

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        def work(session: Session) -> list[AliasMove]:
            self._model_row(session, name)
            query = select(AliasHistoryRow).where(AliasHistoryRow.model_name == name)
            if alias is not None:
                query = query.where(AliasHistoryRow.alias == alias)
            rows = session.scalars(query.order_by(AliasHistoryRow.id)).all()
            return [
                AliasMove(name, r.alias, r.from_version, r.to_version, r.actor, r.at) for r in rows
            ]

        return self._read(work)

    # --- audit --------------------------------------------------------------------------------
    def audit_events(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        query = select(AuditEventRow).order_by(AuditEventRow.seq)
        if object_type:
            query = query.where(AuditEventRow.object_type == object_type)
        if object_id:
            query = query.where(AuditEventRow.object_id == object_id)
        if since:
            query = query.where(AuditEventRow.at >= since)
        if limit:
            query = query.limit(limit)
        return self._read(lambda s: [to_event(r) for r in s.scalars(query)])

    # --- housekeeping -------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        with self._translated():
            current = migrate.current_revision(self.engine)
        return {
            "backend": self.engine.dialect.name,
            "url": safe_url(self.url),
            "revision": current,
            "head": migrate.head_revision(),
        }

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)


def _listing(what: str, names: Sequence[str], near: str | None) -> str:
    if not names:
        return f"there are no {what} yet"
    close = difflib.get_close_matches(near, names, n=3) if near else []
    shown = ", ".join(names[:20]) + (f" … ({len(names) - 20} more)" if len(names) > 20 else "")
    prefix = f"did you mean {', '.join(close)}? " if close else ""
    return f"{prefix}{what}: {shown}"


def _check_tier(tier: str) -> str:
    if tier not in RISK_TIERS:
        raise InvalidInputError(
            f"unknown risk tier {tier!r}", hint=f"use one of: {', '.join(RISK_TIERS)}"
        )
    return tier


def _check_page(limit: int, offset: int) -> None:
    if limit < 1 or offset < 0:
        raise InvalidInputError(
            f"bad page (limit={limit}, offset={offset})", hint="limit ≥ 1, offset ≥ 0"
        )


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (tags or {}).items()}

"""The metadata store on SQLAlchemy: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from modelward.errors import StoreUnavailableError
from modelward.refs import ModelRef, check_alias, check_name
from modelward.store import (
    aliases_ops,
    governance_ops,
    governance_reads,
    migrate,
    models_ops,
    versions_ops,
)
from modelward.store.audit import read_events
from modelward.store.base import MetadataStore
from modelward.store.engine import WRITE_OPTION, create_store_engine, safe_url
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
from modelward.store.lookup import check_page, check_tier, model_entity_of

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
            row = models_ops.insert_model(session, name, actor, description, owner, risk_tier, tags)
            return model_entity_of(session, row)

        return self._write(work)

    def get_model(self, name: str) -> Model:
        return self._read(lambda s: models_ops.get_model(s, name))

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
        check_page(limit, offset)
        if risk_tier:
            check_tier(risk_tier)
        return self._read(
            lambda s: models_ops.search_models(
                s,
                text=text,
                tags=tags,
                owner=owner,
                risk_tier=risk_tier,
                limit=limit,
                offset=offset,
            )
        )

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
        return self._write(
            lambda s: models_ops.update_model(
                s,
                name,
                actor=actor,
                description=description,
                risk_tier=risk_tier,
                tags=tags,
                goals=goals,
                card=card,
            )
        )

    def delete_model(self, name: str, *, actor: str) -> list[ModelVersion]:
        return self._write(lambda s: models_ops.delete_model(s, name, actor=actor))

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
        return self._write(
            lambda s: versions_ops.create_version(
                s, name, new, actor=actor, create_model=create_model
            )
        )

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self._read(lambda s: versions_ops.get_version(s, name, version))

    def list_versions(
        self, name: str, *, include_archived: bool = False, limit: int = 100, offset: int = 0
    ) -> list[ModelVersion]:
        check_page(limit, offset)
        return self._read(
            lambda s: versions_ops.list_versions(
                s, name, include_archived=include_archived, limit=limit, offset=offset
            )
        )

    def resolve(self, ref: ModelRef) -> ModelVersion:
        return self._read(lambda s: versions_ops.resolve(s, ref))

    def set_archived(self, name: str, version: int, archived: bool, *, actor: str) -> ModelVersion:
        return self._write(
            lambda s: versions_ops.set_archived(s, name, version, archived, actor=actor)
        )

    def delete_version(self, name: str, version: int, *, actor: str) -> ModelVersion:
        return self._write(lambda s: versions_ops.delete_version(s, name, version, actor=actor))

    def digest_in_use(self, digest: str) -> bool:
        return self._read(lambda s: versions_ops.digest_in_use(s, digest))

    # --- aliases ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> AliasMove:
        check_alias(alias)
        return self._write(lambda s: aliases_ops.set_alias(s, name, alias, version, actor=actor))

    def delete_alias(self, name: str, alias: str, *, actor: str) -> AliasMove:
        return self._write(lambda s: aliases_ops.delete_alias(s, name, alias, actor=actor))

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        return self._read(lambda s: aliases_ops.alias_history(s, name, alias))

    # --- governance ---------------------------------------------------------------------------
    def governance_state(self, name: str, version: int) -> GovernanceState:
        return self._read(lambda s: governance_reads.governance_state(s, name, version))

    def move_stages(self, name: str, version: int, *, actor: str, plan: Plan) -> ModelVersion:
        return self._write(
            lambda s: governance_ops.move_stages(s, name, version, actor=actor, plan=plan)
        )

    def set_governed_alias(
        self, name: str, alias: str, version: int, *, actor: str, plan: Plan
    ) -> AliasMove:
        check_alias(alias)
        return self._write(
            lambda s: governance_ops.set_governed_alias(
                s, name, alias, version, actor=actor, plan=plan
            )
        )

    def record_validation(
        self, name: str, version: int, report: NewValidationReport, *, actor: str, plan: Plan
    ) -> ValidationReport:
        return self._write(
            lambda s: governance_ops.record_validation(
                s, name, version, report, actor=actor, plan=plan
            )
        )

    def validation_reports(self, name: str, version: int) -> list[ValidationReport]:
        return self._read(lambda s: governance_reads.list_reports(s, name, version))

    def get_validation_report(self, report_id: int) -> ValidationReport:
        return self._read(lambda s: governance_reads.get_report(s, report_id))

    def record_decision(
        self, name: str, version: int, decision: NewDecision, *, actor: str, plan: Plan
    ) -> Approval:
        return self._write(
            lambda s: governance_ops.record_decision(
                s, name, version, decision, actor=actor, plan=plan
            )
        )

    def approvals(self, name: str, version: int) -> list[Approval]:
        return self._read(lambda s: governance_reads.list_approvals(s, name, version))

    def add_comment(
        self, name: str, version: int, text: str, *, actor: str, parent_id: int | None = None
    ) -> Comment:
        return self._write(
            lambda s: governance_ops.add_comment(s, name, version, text, parent_id, actor=actor)
        )

    def comments(self, name: str, version: int) -> list[Comment]:
        return self._read(lambda s: governance_reads.list_comments(s, name, version))

    def record_policy(
        self, tier: str, before: dict[str, Any] | None, after: dict[str, Any], *, actor: str
    ) -> None:
        self._write(lambda s: governance_ops.record_policy(s, tier, before, after, actor))

    # --- audit --------------------------------------------------------------------------------
    def audit_events(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        return self._read(
            lambda s: read_events(
                s, object_type=object_type, object_id=object_id, since=since, limit=limit
            )
        )

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

"""Migrations match the table definitions, run idempotently, and go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from modelward.store import migrate
from modelward.store.engine import create_store_engine
from modelward.store.tables import Base


def test_migrated_schema_equals_the_table_definitions(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
    engine.dispose()


def test_upgrade_is_idempotent_and_reversible(database_url: str) -> None:
    engine = create_store_engine(database_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_a_database_with_data_upgrades_without_losing_it(database_url: str) -> None:
    from sqlalchemy import text

    engine = create_store_engine(database_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO models (name, description, owner, risk_tier, tags, created_at, updated_at)"
                " VALUES ('old', NULL, 'me', 'low', '{}', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')"
            )
        )
    migrate.upgrade(engine)
    engine.dispose()
    from modelward.store import open_store

    store = open_store(database_url)
    model = store.get_model("old")
    assert (model.owner, model.goals, model.card) == ("me", [], {})
    store.close()

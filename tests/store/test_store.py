"""The store contract, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from modelward.errors import (
    AliasInUseError,
    AliasNotFoundError,
    AlreadyExistsError,
    ArchivedVersionError,
    InvalidInputError,
    InvalidNameError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelward.refs import parse_ref
from modelward.store import SqlStore, open_store
from modelward.store.audit import chain_hash
from tests.store.helpers import new_version

ACTOR = "alice"


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    s = open_store(database_url)
    yield s
    s.close()


def add(store: SqlStore, name: str, n: int = 1) -> list[int]:
    return [
        store.create_version(name, new_version(f"{name}{i}"), actor=ACTOR, create_model={}).version
        for i in range(n)
    ]


def test_models_are_created_listed_and_unique(store: SqlStore) -> None:
    model = store.create_model(
        "churn", actor=ACTOR, description="Churn model", risk_tier="high", tags={"team": "crm"}
    )
    assert (model.name, model.owner, model.risk_tier, model.tags) == (
        "churn",
        ACTOR,
        "high",
        {"team": "crm"},
    )
    assert model.latest_version is None and model.created_at.tzinfo is not None
    with pytest.raises(AlreadyExistsError, match="'churn' already exists"):
        store.create_model("churn", actor=ACTOR)
    with pytest.raises(AlreadyExistsError, match="'churn'"):
        store.create_model("CHURN", actor=ACTOR)  # names differing only in case would confuse
    with pytest.raises(InvalidNameError):
        store.create_model("../x", actor=ACTOR)
    with pytest.raises(InvalidInputError, match="unknown risk tier"):
        store.create_model("other", actor=ACTOR, risk_tier="extreme")


def test_versions_are_numbered_per_model(store: SqlStore) -> None:
    assert add(store, "a", 3) == [1, 2, 3]
    assert add(store, "b", 2) == [1, 2]
    v = store.get_version("a", 2)
    assert (v.name, v.version, v.flavor, v.stage, v.archived, v.created_by) == (
        "a",
        2,
        "sklearn",
        "draft",
        False,
        ACTOR,
    )
    assert v.signature is not None and v.signature.output_names == ["prediction"]
    assert v.metrics == {"auc": 0.9} and v.params == {"C": 1.0} and v.tags == {"team": "risk"}
    assert store.get_model("a").latest_version == 3


def test_missing_things_are_named_with_what_exists(store: SqlStore) -> None:
    add(store, "churn", 2)
    with pytest.raises(ModelNotFoundError) as info:
        store.get_model("churm")
    assert "did you mean churn" in (info.value.hint or "")
    with pytest.raises(VersionNotFoundError) as vinfo:
        store.get_version("churn", 9)
    assert vinfo.value.hint == "versions: 1, 2"
    store.set_alias("churn", "champion", 1, actor=ACTOR)
    with pytest.raises(AliasNotFoundError) as ainfo:
        store.resolve(parse_ref("churn@prod"))
    assert "champion → 1" in (ainfo.value.hint or "")
    with pytest.raises(ModelNotFoundError, match="'nope'"):
        store.create_version("nope", new_version(), actor=ACTOR)


def test_resolve_every_reference_form(store: SqlStore) -> None:
    add(store, "m", 3)
    store.set_alias("m", "champion", 2, actor=ACTOR)
    assert store.resolve(parse_ref("m")).version == 3
    assert store.resolve(parse_ref("models:/m/1")).version == 1
    champion = store.resolve(parse_ref("models:/m@champion"))
    assert champion.version == 2 and champion.aliases == ("champion",)


def test_alias_moves_are_atomic_and_recorded(store: SqlStore) -> None:
    add(store, "m", 3)
    first = store.set_alias("m", "champion", 1, actor="alice")
    second = store.set_alias("m", "champion", 3, actor="bob")
    assert (first.from_version, first.to_version) == (None, 1)
    assert (second.from_version, second.to_version, second.actor) == (1, 3, "bob")
    removed = store.delete_alias("m", "champion", actor="carol")
    assert (removed.from_version, removed.to_version) == (3, None)
    history = store.alias_history("m")
    assert [(h.from_version, h.to_version, h.actor) for h in history] == [
        (None, 1, "alice"),
        (1, 3, "bob"),
        (3, None, "carol"),
    ]
    assert all(h.at.tzinfo is not None for h in history)
    with pytest.raises(AliasNotFoundError):
        store.delete_alias("m", "champion", actor=ACTOR)
    with pytest.raises(InvalidNameError):
        store.set_alias("m", "latest", 1, actor=ACTOR)
    with pytest.raises(VersionNotFoundError):
        store.set_alias("m", "champion", 99, actor=ACTOR)


def test_archive_hides_but_keeps_loadable(store: SqlStore) -> None:
    add(store, "m", 3)
    store.set_archived("m", 3, True, actor=ACTOR)
    assert [v.version for v in store.list_versions("m")] == [2, 1]
    assert [v.version for v in store.list_versions("m", include_archived=True)] == [3, 2, 1]
    assert store.resolve(parse_ref("m")).version == 2  # latest skips archived
    assert store.resolve(parse_ref("m/3")).archived  # exact version still resolves
    with pytest.raises(ArchivedVersionError):
        store.set_alias("m", "champion", 3, actor=ACTOR)
    store.set_alias("m", "champion", 2, actor=ACTOR)
    with pytest.raises(AliasInUseError, match="champion"):
        store.set_archived("m", 2, True, actor=ACTOR)
    store.set_archived("m", 3, False, actor=ACTOR)
    assert store.resolve(parse_ref("m")).version == 3


def test_delete_is_refused_while_an_alias_points_at_it(store: SqlStore) -> None:
    add(store, "m", 2)
    store.set_alias("m", "champion", 1, actor=ACTOR)
    with pytest.raises(AliasInUseError, match="champion"):
        store.delete_version("m", 1, actor=ACTOR)
    with pytest.raises(AliasInUseError, match="champion → 1"):
        store.delete_model("m", actor=ACTOR)
    gone = store.delete_version("m", 2, actor=ACTOR)
    assert gone.version == 2 and not store.digest_in_use(gone.digest)
    assert store.digest_in_use(store.get_version("m", 1).digest)
    assert add(store, "m", 1) == [2]  # numbers continue from the highest remaining
    store.delete_alias("m", "champion", actor=ACTOR)
    assert sorted(v.version for v in store.delete_model("m", actor=ACTOR)) == [1, 2]
    with pytest.raises(ModelNotFoundError):
        store.get_model("m")
    assert [e.action for e in store.audit_events(object_id="m@champion")] == [
        "alias.set",
        "alias.delete",
    ]


def test_search_filters_and_pages(store: SqlStore) -> None:
    store.create_model(
        "credit-risk",
        actor="alice",
        description="PD model",
        tags={"team": "risk"},
        risk_tier="high",
    )
    store.create_model("churn", actor="bob", description="Customer churn", tags={"team": "crm"})
    store.create_model("fraud", actor="alice", tags={"team": "risk"})
    assert [m.name for m in store.search_models()] == ["churn", "credit-risk", "fraud"]
    assert [m.name for m in store.search_models(text="CUSTOMER")] == ["churn"]
    assert [m.name for m in store.search_models(tags={"team": "risk"})] == ["credit-risk", "fraud"]
    assert [m.name for m in store.search_models(owner="alice", risk_tier="high")] == ["credit-risk"]
    assert [m.name for m in store.search_models(limit=1, offset=1)] == ["credit-risk"]
    with pytest.raises(InvalidInputError):
        store.search_models(limit=0)
    updated = store.update_model("churn", actor="bob", risk_tier="low", tags={"team": "growth"})
    assert (updated.risk_tier, updated.tags) == ("low", {"team": "growth"})


def test_every_change_extends_the_audit_chain(store: SqlStore) -> None:
    add(store, "m", 2)
    store.set_alias("m", "champion", 2, actor="bob")
    store.set_archived("m", 1, True, actor="carol")
    store.delete_version("m", 1, actor="carol")
    events = store.audit_events()
    assert [e.action for e in events] == [
        "model.create",
        "version.create",
        "version.create",
        "alias.set",
        "version.archive",
        "version.delete",
    ]
    assert events[0].prev_hash == "0" * 64
    for prev, event in itertools.pairwise(events):
        assert event.prev_hash == prev.hash and event.seq == prev.seq + 1
    assert events[3].actor == "bob" and events[3].after == {"version": 2}
    assert [e.object_id for e in store.audit_events(object_type="alias")] == ["m@champion"]
    # the hash covers the stored payload exactly
    from sqlalchemy import select

    from modelward.store.tables import AuditEventRow

    with store.engine.connect() as conn:
        rows = conn.execute(
            select(AuditEventRow.payload, AuditEventRow.prev_hash, AuditEventRow.hash)
        ).all()
    assert all(chain_hash(prev, payload) == digest for payload, prev, digest in rows)


def test_a_failed_transaction_writes_nothing(store: SqlStore) -> None:
    add(store, "m", 1)
    before = len(store.audit_events())
    with pytest.raises(AliasInUseError):
        store.set_alias("m", "champion", 1, actor=ACTOR)
        store.delete_version("m", 1, actor=ACTOR)
    assert len(store.audit_events()) == before + 1  # only the alias move


def test_describe_reports_backend_and_revision(store: SqlStore, database_url: str) -> None:
    info = store.describe()
    assert info["backend"] in {"sqlite", "postgresql"} and info["revision"] == info["head"]
    assert "***" in info["url"] or info["backend"] == "sqlite"


def test_goals_and_card_narrative_are_editable_and_audited(store: SqlStore) -> None:
    store.create_model("m", actor=ACTOR)
    goals = [{"metric": "auc", "op": ">=", "value": 0.9}]
    model = store.update_model(
        "m", actor="bob", goals=goals, card={"intended_use": "triage", "caveats": "x"}
    )
    assert model.goals == goals and model.card == {"intended_use": "triage", "caveats": "x"}
    model = store.update_model("m", actor="bob", card={"caveats": None, "factors": "age"})
    assert model.card == {"intended_use": "triage", "factors": "age"}
    last = store.audit_events(object_id="m")[-1]
    assert last.action == "model.update" and last.after["card"] == model.card

"""The lifecycle on SQLite and PostgreSQL: every move allowed and refused, the champion gate per
risk tier, retire-previous vs keep, and refusals that leave no trace."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from modelward.client import Client
from modelward.errors import PolicyViolationError
from modelward.governance import approvals, lifecycle
from modelward.governance.policies import load_policy
from modelward.store.governance_entities import (
    Approval,
    GovernanceState,
    NewValidationReport,
    StageMove,
    ValidationReport,
)
from tests.store.helpers import new_version

AUTHOR = "alice"


# --- helpers shared by the governance tests -----------------------------------------------------
def make(client: Client, name: str = "m", tier: str = "medium", n: int = 1) -> list[int]:
    """``n`` versions of model ``name`` (created with ``tier``) by AUTHOR; no artifacts needed."""
    store = client.registry.store
    return [
        store.create_version(
            name, new_version(f"{name}-{tier}-{i}"), actor=AUTHOR, create_model={"risk_tier": tier}
        ).version
        for i in range(n)
    ]


def validated(
    client: Client, name: str, version: int, *, passed: bool = True, actor: str = "vera"
) -> ValidationReport:
    """Record a validation report (as validation does) and apply its stage moves."""
    store = client.registry.store
    v = store.get_version(name, version)
    check = {
        "kind": "goal",
        "name": "goal accuracy>=0.5",
        "status": "passed" if passed else "failed",
    }
    report = NewValidationReport(v.digest, passed, [check], {"accuracy": 0.9}, None, {}, None)
    home = client.settings.home

    def plan(state: GovernanceState) -> list[StageMove]:
        policy = load_policy(state.model.risk_tier, home)
        return lifecycle.validation_moves(state, policy, passed)

    return store.record_validation(name, version, report, actor=actor, plan=plan)


def decide(
    client: Client,
    ref: str,
    actor: str,
    decision: str = "approve",
    role: str = "reviewer",
    **options: Any,
) -> Approval:
    """An approval or rejection by ``actor`` acting as ``role``."""
    if decision == "reject":
        options.setdefault("comment", "no")
    return approvals.decide(
        client.registry.store,
        ref,
        decision,
        actor=actor,
        role=role,
        home=client.settings.home,
        **options,
    )


def stage(client: Client, ref: str) -> str:
    """The stage of a version."""
    return client.get(ref).stage


def chain(client: Client) -> list[tuple[int, str]]:
    """(seq, hash) of every audit event: a refusal must leave it unchanged."""
    return [(e.seq, e.hash) for e in client.audit_events()]


def stage_moves(client: Client, ref: str) -> list[tuple[str, str]]:
    """(before, after) of every ``version.stage`` event of a version."""
    events = client.audit_events(object_type="version", object_id=ref)
    return [(e.before["stage"], e.after["stage"]) for e in events if e.action == "version.stage"]


def write_policy(client: Client, tier: str, policy: dict[str, Any]) -> None:
    """A policy file for ``tier`` under MODELWARD_HOME."""
    folder = client.settings.home / "policies"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{tier}.yaml").write_text(yaml.safe_dump(policy))


# --- tests ----------------------------------------------------------------------------------------
def test_medium_walks_every_stage_each_move_audited(client: Client) -> None:
    make(client)
    validated(client, "m", 1)
    assert stage(client, "m/1") == "validated"
    decide(client, "m/1", "bob")
    assert stage(client, "m/1") == "approved"
    move = client.set_alias("m", "champion", 1)
    assert (move.from_version, move.to_version) == (None, 1)
    assert stage(client, "m/1") == "production"
    assert stage_moves(client, "m/1") == [
        ("draft", "validated"),
        ("validated", "approved"),
        ("approved", "production"),
    ]
    events = client.audit_events()
    alias_at = next(i for i, e in enumerate(events) if e.action == "alias.set")
    assert events[alias_at + 1].action == "version.stage"  # same transaction, adjacent in chain
    assert events[alias_at + 1].after["reason"] == "champion → m/1"


def test_champion_on_a_draft_is_refused_naming_everything_missing(client: Client) -> None:
    make(client)
    before = chain(client)
    with pytest.raises(PolicyViolationError) as refused:
        client.set_alias("m", "champion", 1)
    message = refused.value.message
    assert "policy 'medium' needs a passing validation" in message
    assert "1 approval by a reviewer; has 0" in message
    assert chain(client) == before  # nothing half-written
    assert client.get_model("m").aliases == {} and stage(client, "m/1") == "draft"
    validated(client, "m", 1)
    with pytest.raises(
        PolicyViolationError, match=r"medium. needs 1 approval by a reviewer; has 0 \("
    ):
        client.set_alias("m", "champion", 1)
    validated(client, "m", 1, passed=False)  # a failing re-validation does not demote
    assert stage(client, "m/1") == "validated"


def test_high_needs_two_reviewers_and_the_failed_report_is_named(client: Client) -> None:
    make(client, tier="high")
    validated(client, "m", 1, passed=False)
    with pytest.raises(PolicyViolationError, match=r"report \d+ failed: goal accuracy>=0.5"):
        client.set_alias("m", "champion", 1)
    validated(client, "m", 1)
    decide(client, "m/1", "bob")
    assert stage(client, "m/1") == "validated"
    with pytest.raises(PolicyViolationError, match="needs 2 approvals by a reviewer; has 1"):
        client.set_alias("m", "champion", 1)
    decide(client, "m/1", "carol")
    assert stage(client, "m/1") == "approved"
    client.set_alias("m", "champion", 1)
    assert stage(client, "m/1") == "production"


def test_low_risk_auto_approves_on_the_way_to_production(client: Client) -> None:
    make(client, tier="low")
    client.set_alias("m", "champion", 1)
    assert stage_moves(client, "m/1") == [("draft", "approved"), ("approved", "production")]
    reason = client.audit_events(object_id="m/1")[-2].after["reason"]
    assert "auto-approved: policy low" in reason


def test_previous_champion_is_kept_or_retired_by_policy(client: Client) -> None:
    make(client, "kept", tier="low", n=2)  # low: previous = keep (back to approved)
    make(client, "gone", tier="high", n=2)  # high: previous = retire
    client.set_alias("kept", "champion", 1)
    client.set_alias("kept", "champion", 2)
    assert (stage(client, "kept/1"), stage(client, "kept/2")) == ("approved", "production")
    client.set_alias("kept", "champion", 1)  # a kept version rolls back without new approvals
    assert (stage(client, "kept/1"), stage(client, "kept/2")) == ("production", "approved")
    for v in (1, 2):
        validated(client, "gone", v)
        decide(client, f"gone/{v}", "bob")
        decide(client, f"gone/{v}", "carol")
    client.set_alias("gone", "champion", 1)
    client.set_alias("gone", "champion", 2)
    assert (stage(client, "gone/1"), stage(client, "gone/2")) == ("retired", "production")
    with pytest.raises(PolicyViolationError, match="retired is final"):
        client.set_alias("gone", "champion", 1)


@pytest.mark.parametrize(("previous", "expected"), [("keep", "production"), ("retire", "retired")])
def test_multiple_production_versions_when_the_policy_allows(
    client: Client, previous: str, expected: str
) -> None:
    write_policy(client, "low", {"production": {"multiple": True, "previous": previous}})
    make(client, tier="low", n=3)
    client.set_alias("m", "champion", 1)
    client.set_alias("m", "champion", 2)
    assert (stage(client, "m/1"), stage(client, "m/2")) == (expected, "production")
    assert stage(client, "m/3") == "draft"


def test_explicit_retirement(client: Client) -> None:
    make(client, tier="low", n=2)
    client.set_alias("m", "champion", 1)
    before = chain(client)
    with pytest.raises(PolicyViolationError, match="it is the champion"):
        client.retire("m/1")
    assert chain(client) == before
    retired = client.retire("m/2")  # a draft may be retired too
    assert retired.stage == "retired" and stage_moves(client, "m/2") == [("draft", "retired")]
    with pytest.raises(PolicyViolationError, match="already retired; retired is final"):
        client.retire("m/2")
    with pytest.raises(PolicyViolationError, match="retired is final"):
        client.set_alias("m", "champion", 2)


def test_rejected_is_final(client: Client) -> None:
    make(client)
    validated(client, "m", 1)
    decide(client, "m/1", "bob", "reject", comment="leaks the target")
    assert stage(client, "m/1") == "rejected"
    before = chain(client)
    with pytest.raises(PolicyViolationError, match="rejected, and that is final"):
        decide(client, "m/1", "carol")
    with pytest.raises(PolicyViolationError, match="rejected is final"):
        client.set_alias("m", "champion", 1)
    assert chain(client) == before
    validated(client, "m", 1)  # recorded, but the stage stays
    assert stage(client, "m/1") == "rejected"


def test_validating_a_production_version_changes_no_stage(client: Client) -> None:
    make(client, tier="low")
    client.set_alias("m", "champion", 1)
    report = validated(client, "m", 1)
    assert report.passed and stage(client, "m/1") == "production"
    assert [r.id for r in client.validation_reports("m/1")] == [report.id]


def test_other_aliases_are_not_governed(client: Client) -> None:
    make(client)
    client.set_alias("m", "challenger", 1)
    assert stage(client, "m/1") == "draft" and client.get("m@challenger").version == 1
    client.registry.store.set_alias("m", "champion", 1, actor="admin")  # the raw store: no gate
    assert stage(client, "m/1") == "draft"

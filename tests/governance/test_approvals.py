"""Approvals, rejections and comments on SQLite and PostgreSQL: segregation of duties, roles,
digest binding, once per reviewer, concurrent reviewers in two processes, the CLI."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from modelward.client import Client
from modelward.config import load_settings
from modelward.errors import (
    EXIT_CONFLICT,
    EXIT_REFUSED,
    ApproverRoleError,
    ConflictError,
    InvalidInputError,
    PolicyViolationError,
    SelfApprovalError,
    StaleDigestError,
)
from modelward.governance.approvals import embedded_role
from tests.governance.test_lifecycle import AUTHOR, chain, decide, make, stage, validated
from tests.store.helpers import new_version
from tests.support.cli import Run


def as_user(client: Client, actor: str, role: str | None = None) -> Client:
    """Another client on the same registry, acting as ``actor`` with ``role``."""
    return Client(replace(client.settings, actor=actor), role=role)


def test_self_approval_and_changers_are_refused(client: Client) -> None:
    make(client, n=2)
    validated(client, "m", 1)
    before = chain(client)
    with pytest.raises(SelfApprovalError, match="alice may not approve m/1: they created it"):
        decide(client, "m/1", AUTHOR)
    with pytest.raises(SelfApprovalError, match="reject"):
        decide(client, "m/1", AUTHOR, "reject")
    assert chain(client) == before and client.approvals("m/1") == []
    client.registry.store.set_archived("m", 1, True, actor="ops")  # ops changed m/1
    client.registry.store.set_archived("m", 1, False, actor="ops")
    with pytest.raises(SelfApprovalError, match="ops may not approve m/1: they changed it"):
        decide(client, "m/1", "ops")
    decide(client, "m/1", "vera")  # validating is reviewing, not changing
    assert stage(client, "m/1") == "approved"


def test_roles_come_from_the_policy(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    make(client)
    validated(client, "m", 1)
    with pytest.raises(ApproverRoleError, match=r"acts as admin, but policy 'medium'.*reviewer"):
        as_user(client, "bob").approve("m/1")  # embedded default role: admin
    with pytest.raises(InvalidInputError, match="unknown role 'boss'"):
        decide(client, "m/1", "bob", role="boss")
    monkeypatch.setenv("MODELWARD_ROLE", "reviewer")
    assert embedded_role() == "reviewer"
    approval = as_user(client, "bob").approve("m/1", comment="looks fine")
    assert (approval.actor, approval.role, approval.comment) == ("bob", "reviewer", "looks fine")
    monkeypatch.setenv("MODELWARD_ROLE", "reviwer")
    with pytest.raises(InvalidInputError, match="unknown role 'reviwer'"):
        embedded_role()


def test_approvals_bind_to_the_digest_seen(client: Client) -> None:
    make(client)
    validated(client, "m", 1)
    digest = client.get("m/1").digest
    before = chain(client)
    with pytest.raises(StaleDigestError, match="bob looked at artifact sha256:0000000000"):
        decide(client, "m/1", "bob", digest="0" * 64)
    with pytest.raises(InvalidInputError, match="not a sha256 digest"):
        decide(client, "m/1", "bob", digest="abc")
    assert chain(client) == before
    approval = decide(client, "m/1", "bob", digest=f"sha256:{digest[:12]}")
    assert approval.digest == digest


def test_a_reregistered_version_number_starts_afresh(client: Client) -> None:
    make(client)
    validated(client, "m", 1)
    decide(client, "m/1", "bob")
    client.registry.store.delete_version("m", 1, actor=AUTHOR)
    store = client.registry.store
    store.create_version("m", new_version("other bytes"), actor=AUTHOR)  # m/1 again
    assert client.approvals("m/1") == [] and client.validation_reports("m/1") == []
    validated(client, "m", 1)
    again = decide(client, "m/1", "bob")  # bob's earlier row was about other bytes
    assert again.digest == client.get("m/1").digest and stage(client, "m/1") == "approved"


def test_approving_a_draft_that_needs_validation_is_refused(client: Client) -> None:
    make(client)
    with pytest.raises(PolicyViolationError, match="needs a passing validation"):
        decide(client, "m/1", "bob")
    make(client, "easy", tier="low")  # low risk: validation optional
    decide(client, "easy/1", "bob")
    assert stage(client, "easy/1") == "approved"


def test_each_reviewer_decides_once(client: Client) -> None:
    make(client, tier="high")
    validated(client, "m", 1)
    first = decide(client, "m/1", "bob")
    events = len(client.audit_events())
    assert decide(client, "m/1", "bob") == first  # the same decision again: recorded once
    assert len(client.audit_events()) == events
    with pytest.raises(ConflictError, match="bob already decided on m/1: approve"):
        decide(client, "m/1", "bob", "reject")
    assert [a.actor for a in client.approvals("m/1")] == ["bob"]


def test_rejections(client: Client) -> None:
    make(client, n=2, tier="low")
    with pytest.raises(InvalidInputError, match="needs a comment"):
        decide(client, "m/1", "bob", "reject", comment="  ")
    decide(client, "m/1", "bob", "reject", comment="unstable")
    assert stage(client, "m/1") == "rejected"
    client.set_alias("m", "champion", 2)
    with pytest.raises(PolicyViolationError, match="cannot reject m/2: it is in production"):
        decide(client, "m/2", "bob", "reject")


def test_comment_threads(client: Client) -> None:
    make(client)
    bob = as_user(client, "bob")
    first = bob.comment("m/1", "why is recall so low?")
    reply = client.comment("m/1", "class imbalance", reply_to=first.id)
    later = bob.comment("m/1", "please add a threshold")
    assert [(c.actor, c.parent_id) for c in client.comments("m/1")] == [
        ("bob", None),
        ("tester", first.id),
        ("bob", None),
    ]
    assert reply.parent_id == first.id and later.id > reply.id
    with pytest.raises(InvalidInputError, match="needs some text"):
        bob.comment("m/1", "   ")
    with pytest.raises(InvalidInputError, match="comment 999 is not a comment on m/1"):
        bob.comment("m/1", "hm", reply_to=999)
    event = client.audit_events(object_id="m/1")[-1]
    assert (event.action, event.actor, event.after["text"]) == (
        "version.comment",
        "bob",
        "please add a threshold",
    )
    assert stage(client, "m/1") == "draft"  # commenting is no review decision


def test_cli_approve_reject_comment_status(client: Client, run: Run, monkeypatch: Any) -> None:
    make(client, n=2)
    validated(client, "m", 1)
    validated(client, "m", 2)
    monkeypatch.setenv("MODELWARD_ACTOR", AUTHOR)
    self_approval = run("approve", "m/1")
    assert self_approval.code == EXIT_REFUSED and "segregation of duties" in self_approval.err
    status = json.loads(run("lifecycle", "m/1", "--json").out)
    assert status["stage"] == "validated"
    assert status["production_needs"] == ["1 approval by a reviewer; has 0"]
    monkeypatch.setenv("MODELWARD_ACTOR", "bob")
    monkeypatch.setenv("MODELWARD_ROLE", "reviewer")
    digest = client.get("m/1").digest
    stale = run("approve", "m/1", "--digest", "f" * 64)
    assert stale.code == EXIT_CONFLICT and "sha256:ffffffffffff" in stale.err
    done = run("approve", "m/1", "--comment", "ok", "--digest", digest[:16], "--json")
    assert json.loads(done.out)["stage"] == "approved", done.err
    assert "bob (reviewer) rejected m/2" in run("reject", "m/2", "-c", "drifts").out
    assert run("reject", "m/1").code == 2  # --comment is required
    listed = json.loads(run("approvals", "m/1", "--json").out)
    assert [(a["actor"], a["decision"], a["digest"]) for a in listed] == [
        ("bob", "approve", digest)
    ]
    assert "may become champion" in run("lifecycle", "m/1").out
    added = json.loads(run("comment", "m/1", "ship it", "--json").out)
    run("comment", "m/1", "agreed", "--reply-to", str(added["id"]))
    thread = run("comments", "m/1").out
    assert thread.index("ship it") < thread.index("    ") < thread.index("agreed")
    assert "rejected is final" in run("retire", "m/2").err  # no move out of a final stage
    assert "production needs" not in run("lifecycle", "m/1").out


# --- concurrency --------------------------------------------------------------------------------
def approve_all(database_url: str, home: str, actor: str, refs: list[str], start: Any) -> int:
    """Run in a child process: approve each ref as ``actor`` (a reviewer); count the approvals."""
    import os

    os.environ["MODELWARD_HOME"] = home
    settings = replace(load_settings(), actor=actor, database_url=database_url)
    client = Client(settings, role="reviewer")
    start.wait()
    done = sum(1 for ref in refs if client.approve(ref).actor == actor)
    client.close()
    return done


@pytest.mark.parametrize("reviewers", [("bob", "carol"), ("bob", "bob")])
def test_two_processes_approving_at_once(
    client: Client, database_url: str, mw_home: Path, reviewers: tuple[str, str]
) -> None:
    versions = make(client, tier="high", n=8)
    for v in versions:
        validated(client, "m", v)
    refs = [f"m/{v}" for v in versions]
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    start = manager.Event()
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [
            pool.submit(approve_all, database_url, str(mw_home), who, refs, start)
            for who in reviewers
        ]
        start.set()
        assert [f.result(timeout=300) for f in futures] == [8, 8]
    manager.shutdown()
    distinct = sorted(set(reviewers))
    for ref in refs:
        assert sorted(a.actor for a in client.approvals(ref)) == distinct  # each recorded once
        moved = [
            e
            for e in client.audit_events(object_id=ref)
            if e.action == "version.stage" and e.after["stage"] == "approved"
        ]
        assert len(moved) == (1 if len(distinct) == 2 else 0)
        assert stage(client, ref) == ("approved" if len(distinct) == 2 else "validated")

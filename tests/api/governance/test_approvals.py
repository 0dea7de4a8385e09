"""Approvals, lifecycle and retirement through the API (SQLite and PostgreSQL): the caller's
user and role decide, self-approval is refused, a skipped state is named, concurrent reviewers
are each recorded once."""

from __future__ import annotations

from modelward.client import Client
from tests.api.conftest import Api
from tests.api.governance.support import AUTHOR, concurrently
from tests.governance.test_lifecycle import validated, write_policy

V1 = "/api/v1/models/churn/versions/1"


def test_a_reviewer_approves_and_the_approval_is_theirs(api: Api, mw: Client) -> None:
    api.seed("churn")
    validated(mw, "churn", 1)
    rita = api.token_for("rita", "reviewer")
    digest = mw.get("churn/1").digest
    r = api.call("POST", f"{V1}/approve", rita, json={"comment": "fine", "digest": digest[:12]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["actor"], body["role"], body["decision"]) == ("rita", "reviewer", "approve")
    assert body["digest"] == digest and body["comment"] == "fine"
    assert mw.get("churn/1").stage == "approved"
    listed = api.call("GET", f"{V1}/approvals", rita).json()
    assert [a["actor"] for a in listed["items"]] == ["rita"] and listed["next"] is None
    events = mw.audit_log(object_ref="churn/1", action="version.approve")
    assert [e.actor for e in events] == ["rita"]


def test_self_approval_is_refused(api: Api, mw: Client) -> None:
    api.seed("churn")  # created by AUTHOR
    validated(mw, "churn", 1)
    author = api.token_for(AUTHOR, "reviewer")
    r = api.call("POST", f"{V1}/approve", author, json={})
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "SELF_APPROVAL"
    assert "segregation of duties" in r.json()["error"] and r.json()["hint"]
    assert mw.approvals("churn/1") == [] and mw.get("churn/1").stage == "validated"


def test_a_role_the_policy_does_not_count_and_a_stale_digest_are_refused(
    api: Api, mw: Client
) -> None:
    api.seed("churn")
    validated(mw, "churn", 1)
    admin_user = api.token_for("ada", "admin")
    r = api.call("POST", f"{V1}/approve", admin_user, json={})
    assert r.status_code == 403 and r.json()["code"] == "APPROVER_ROLE"
    rita = api.token_for("rita", "reviewer")
    r = api.call("POST", f"{V1}/approve", rita, json={"digest": "0" * 64})
    assert r.status_code == 409 and r.json()["code"] == "STALE_DIGEST"
    r = api.call("POST", f"{V1}/approve", rita, json={"digest": "not-hex"})
    assert r.status_code == 400 and "sha256" in r.json()["error"]
    r = api.call("POST", f"{V1}/reject", rita, json={"digest": None})
    assert r.status_code == 400 and "comment" in r.json()["error"]
    r = api.call("POST", f"{V1}/approve", rita, json={"comennt": "typo"})
    assert r.status_code == 400 and "comennt" in r.json()["error"]
    assert mw.approvals("churn/1") == []


def test_a_transition_that_skips_a_state_is_refused_naming_what_is_missing(
    api: Api, mw: Client
) -> None:
    api.seed("churn")
    rita = api.token_for("rita", "reviewer")
    r = api.call("POST", f"{V1}/approve", rita, json={})
    assert r.status_code == 409 and r.json()["code"] == "POLICY_VIOLATION"
    assert "a passing validation" in r.json()["error"]
    r = api.call("PUT", "/api/v1/models/churn/aliases/champion", api.admin, json={"version": 1})
    assert r.status_code == 409 and r.json()["code"] == "POLICY_VIOLATION"
    assert "a passing validation" in r.json()["error"] and "approval" in r.json()["error"]
    state = api.call("GET", f"{V1}/lifecycle", rita).json()
    assert state["stage"] == "draft" and len(state["production_needs"]) == 2
    assert state["state"]["version"]["version"] == 1 and state["state"]["stages"] == {"1": "draft"}
    validated(mw, "churn", 1)
    assert api.call("POST", f"{V1}/approve", rita, json={}).status_code == 201
    state = api.call("GET", f"{V1}/lifecycle", rita).json()
    assert state["production_needs"] == [] and state["approvals"]["counted"] == ["rita"]
    r = api.call("PUT", "/api/v1/models/churn/aliases/champion", api.admin, json={"version": 1})
    assert r.status_code == 200 and mw.get("churn/1").stage == "production"


def test_two_reviewers_approving_at_once_are_each_recorded_once(api: Api, mw: Client) -> None:
    write_policy(mw, "high", {"validation": {"checks": []}})
    api.seed("churn")
    mw.update_model("churn", risk_tier="high")  # two approvals needed
    validated(mw, "churn", 1)
    rita, rob = api.token_for("rita", "reviewer"), api.token_for("rob", "reviewer")
    path = f"{V1}/approve"
    answers = concurrently(
        api,
        ("POST", path, rita, {"comment": "r1"}),
        ("POST", path, rob, {"comment": "r2"}),
        ("POST", path, rita, {"comment": "r1"}),
        ("POST", path, rob, {"comment": "r2"}),
    )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert answers[0].json()["id"] == answers[2].json()["id"]
    assert sorted(a.actor for a in mw.approvals("churn/1")) == ["rita", "rob"]
    assert len(mw.audit_log(object_ref="churn/1", action="version.approve")) == 2
    assert mw.get("churn/1").stage == "approved"


def test_retire(api: Api, mw: Client) -> None:
    api.seed("churn", versions=2)
    mw.update_model("churn", risk_tier="low")  # auto-approved: champion needs nothing
    api.call("PUT", "/api/v1/models/churn/aliases/champion", api.admin, json={"version": 1})
    scientist = api.token_for("sam", "data_scientist")
    r = api.call("POST", f"{V1}/retire", api.token_for("rita", "reviewer"))
    assert r.status_code == 403 and r.json()["permission"] == "versions:archive"
    r = api.call("POST", f"{V1}/retire", scientist)
    assert r.status_code == 409 and "champion" in r.json()["error"]
    assert mw.get("churn/1").stage == "production"
    r = api.call("POST", "/api/v1/models/churn/versions/2/retire", scientist)
    assert r.status_code == 200 and r.json()["stage"] == "retired"
    r = api.call("POST", "/api/v1/models/churn/versions/2/retire", scientist)
    assert r.status_code == 409 and "already retired" in r.json()["error"]
    r = api.call("POST", "/api/v1/models/churn/versions/9/retire", scientist)
    assert r.status_code == 404 and r.json()["code"] == "VERSION_NOT_FOUND"

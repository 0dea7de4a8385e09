"""The audit trail through the API: filtered, paged, read only; API changes name the API user."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_models import walk_pages


def test_every_change_made_through_the_api_names_the_api_user(api: Api) -> None:
    api.seed("churn", versions=3)
    alice = api.token_for("alice", "data_scientist")
    calls = [
        ("PUT", "/api/v1/models/churn/aliases/challenger", alice, {"version": 1}),
        ("DELETE", "/api/v1/models/churn/aliases/challenger", alice, None),
        ("POST", "/api/v1/models/churn/versions/3/archive", alice, None),
        ("POST", "/api/v1/models/churn/versions/3/restore", alice, None),
        ("DELETE", "/api/v1/models/churn/versions/2", api.admin, None),
        ("POST", "/api/v1/users", api.admin, {"name": "bob", "role": "viewer"}),
        ("POST", "/api/v1/users/bob/tokens", api.admin, {}),
        ("POST", "/api/v1/users/bob/disable", api.admin, None),
    ]
    before = len(api.ctx.store.audit_events())
    for method, path, token, body in calls:
        assert api.call(method, path, token, json=body).status_code < 300, path
    events = api.ctx.store.audit_events()[before:]
    assert [(e.action, e.actor) for e in events] == [
        ("alias.set", "alice"),
        ("alias.delete", "alice"),
        ("version.archive", "alice"),
        ("version.restore", "alice"),
        ("version.delete", "root"),
        ("user.create", "root"),
        ("token.create", "root"),
        ("user.disable", "root"),
    ]


def test_audit_events_are_filtered_and_paged(api: Api) -> None:
    api.seed("churn", versions=4)
    api.seed("fraud")
    auditor = api.token_for("rita", "reviewer")
    everything = [e for p in walk_pages(api, "/api/v1/audit/events?limit=2", auditor) for e in p]
    stored = api.ctx.store.audit_events()
    assert [e["seq"] for e in everything] == [e.seq for e in stored]
    assert {e["hash"] for e in everything} == {e.hash for e in stored}
    versions = api.call(
        "GET", "/api/v1/audit/events?object_type=version&limit=3&offset=1", auditor
    ).json()
    assert [e["object_id"] for e in versions["items"]] == ["churn/2", "churn/3", "churn/4"]
    assert versions["next"] == "/api/v1/audit/events?object_type=version&limit=3&offset=4"
    one = api.call("GET", "/api/v1/audit/events?object_id=fraud", auditor).json()["items"]
    assert [e["action"] for e in one] == ["model.create"]
    later = api.call("GET", "/api/v1/audit/events?since=2999-01-01T00:00:00Z", auditor).json()
    assert later["items"] == [] and later["next"] is None
    naive = api.call("GET", "/api/v1/audit/events?since=2000-01-01T00:00:00", auditor).json()
    assert len(naive["items"]) == len(stored)


def test_no_route_edits_or_deletes_audit_events(api: Api) -> None:
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        r = api.call(method, "/api/v1/audit/events", api.admin)
        assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
    r = api.call("DELETE", "/api/v1/audit/events/1", api.admin)
    assert r.status_code == 404

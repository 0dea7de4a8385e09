"""Aliases through the API; every change names the API user as its actor."""

from __future__ import annotations

from tests.api.conftest import Api


def test_alias_moves_are_recorded_with_the_api_user_as_actor(api: Api) -> None:
    api.seed("churn", versions=2)
    alice = api.token_for("alice", "data_scientist")
    olaf = api.token_for("olaf", "operator")
    r = api.call("PUT", "/api/v1/models/churn/aliases/challenger", alice, json={"version": 1})
    assert r.status_code == 200
    assert (r.json()["from_version"], r.json()["to_version"], r.json()["actor"]) == (
        None,
        1,
        "alice",
    )
    api.call("PUT", "/api/v1/models/churn/aliases/challenger", olaf, json={"version": 2})
    assert api.call("GET", "/api/v1/models/churn/aliases", alice).json() == {"challenger": 2}
    r = api.call("DELETE", "/api/v1/models/churn/aliases/challenger", alice)
    assert r.json()["from_version"] == 2 and r.json()["to_version"] is None
    history = api.call("GET", "/api/v1/models/churn/alias-history", alice).json()
    assert [(m["from_version"], m["to_version"], m["actor"]) for m in history] == [
        (None, 1, "alice"),
        (1, 2, "olaf"),
        (2, None, "alice"),
    ]
    only = api.call("GET", "/api/v1/models/churn/alias-history?alias=other", alice).json()
    assert only == []
    r = api.call("DELETE", "/api/v1/models/churn/aliases/challenger", alice)
    assert r.status_code == 404 and r.json()["code"] == "ALIAS_NOT_FOUND"


def test_bad_alias_requests(api: Api) -> None:
    api.seed("churn")
    token = api.token_for("alice", "data_scientist")
    r = api.call("PUT", "/api/v1/models/churn/aliases/latest", token, json={"version": 1})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_NAME"
    r = api.call("PUT", "/api/v1/models/churn/aliases/x", token, json={"version": 9})
    assert r.status_code == 404 and r.json()["code"] == "VERSION_NOT_FOUND"
    r = api.call("PUT", "/api/v1/models/churn/aliases/x", token, json={"version": 0})
    assert r.status_code == 400
    r = api.call("PUT", "/api/v1/models/churn/aliases/x", token)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_INPUT"

"""Token lifecycle through the API: create → works; expire, revoke, disable, forge → 401; only
the hash is stored; last use is noted, at most once a minute."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from modelward.governance import users
from modelward.store import open_store
from modelward.store.tables import utcnow
from tests.api.conftest import Api


def test_a_token_created_by_an_admin_works_until_revoked(api: Api) -> None:
    r = api.call("POST", "/api/v1/users", api.admin, json={"name": "alice", "role": "reviewer"})
    assert r.status_code == 201 and r.json()["role"] == "reviewer"
    r = api.call(
        "POST",
        "/api/v1/users/alice/tokens",
        api.admin,
        json={"description": "ci", "expires_days": 30},
    )
    assert r.status_code == 201
    created = r.json()
    secret, prefix = created["token"], created["prefix"]
    assert secret.startswith(prefix + "_") and created["status"] == "active"
    me = api.call("GET", "/api/v1/me", secret).json()
    assert (me["name"], me["role"], me["token"]) == ("alice", "reviewer", prefix)
    assert "lifecycle:approve" in me["permissions"] and "users:admin" not in me["permissions"]
    listed = api.call("GET", "/api/v1/tokens?user=alice", api.admin).json()
    assert [t["prefix"] for t in listed] == [prefix]
    assert "token" not in listed[0] and "hash" not in listed[0]
    r = api.call("POST", f"/api/v1/tokens/{prefix}/revoke", api.admin)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    refused = api.call("GET", "/api/v1/me", secret)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    again = api.call("POST", f"/api/v1/tokens/{prefix}/revoke", api.admin)  # changes nothing
    assert again.json()["revoked_at"] == r.json()["revoked_at"]
    events = api.ctx.store.audit_events(object_type="token", object_id=prefix)
    assert [(e.action, e.actor) for e in events] == [
        ("token.create", "root"),
        ("token.revoke", "root"),
    ]


def test_expired_forged_and_disabled_tokens_are_refused(api: Api) -> None:
    secret = api.token_for("bob", "viewer", expires_days=1)
    assert api.call("GET", "/api/v1/me", secret).status_code == 200
    api.set_token_times(secret, expires_at=utcnow() - timedelta(minutes=1))
    r = api.call("GET", "/api/v1/me", secret)
    assert r.status_code == 401 and "expired" in r.json()["error"]
    fresh = api.token_for("bob", "viewer")
    for forged in (fresh[:-1] + ("A" if fresh[-1] != "A" else "B"), "mw_zzzzzzzz_" + "x" * 43):
        r = api.call("GET", "/api/v1/me", forged)
        assert r.status_code == 401 and r.json()["error"] == "invalid API token"
    r = api.call("GET", "/api/v1/me", headers={"Authorization": f"Basic {fresh}"})
    assert r.status_code == 401
    assert api.call("POST", "/api/v1/users/bob/disable", api.admin).json()["disabled"] is True
    r = api.call("GET", "/api/v1/me", fresh)
    assert r.status_code == 401 and "disabled" in r.json()["error"]
    api.call("POST", "/api/v1/users/bob/enable", api.admin)
    assert api.call("GET", "/api/v1/me", fresh).status_code == 200


def test_only_the_hash_and_prefix_are_stored(api: Api) -> None:
    r = api.call("POST", "/api/v1/users", api.admin, json={"name": "carol", "role": "viewer"})
    secret = api.call("POST", "/api/v1/users/carol/tokens", api.admin, json={}).json()["token"]
    prefix, rest = secret[:11], secret[12:]
    assert r.status_code == 201 and api.call("GET", "/api/v1/me", secret).status_code == 200
    dump = api.dump()
    for raw in (secret, rest, api.admin, api.admin[12:]):
        assert raw not in dump
    assert prefix in dump and api.token_row(secret).hash in dump


def test_last_use_is_noted_at_most_once_a_minute(api: Api) -> None:
    secret = api.token_for("dan", "viewer")
    assert api.token_row(secret).last_used_at is None
    api.call("GET", "/api/v1/me", secret)
    first = api.token_row(secret).last_used_at
    assert first is not None
    api.call("GET", "/api/v1/me", secret)
    assert api.token_row(secret).last_used_at == first
    api.set_token_times(secret, last_used_at=utcnow() - timedelta(minutes=2))
    api.call("GET", "/api/v1/me", secret)
    assert api.token_row(secret).last_used_at > first - timedelta(seconds=1)
    listed = api.call("GET", "/api/v1/tokens?user=dan", api.admin).json()
    assert listed[0]["last_used_at"] is not None


def test_user_admin_rules(api: Api) -> None:
    r = api.call("POST", "/api/v1/users", api.admin, json={"name": "eve", "role": "superuser"})
    assert r.status_code == 400 and "viewer" in r.json()["hint"]
    r = api.call("POST", "/api/v1/users", api.admin, json={"name": "Root", "role": "viewer"})
    assert r.status_code == 409 and r.json()["code"] == "ALREADY_EXISTS"
    r = api.call("POST", "/api/v1/users/root/disable", api.admin)
    assert r.status_code == 409 and "last enabled admin" in r.json()["error"]
    r = api.call("POST", "/api/v1/users/nobody/tokens", api.admin, json={})
    assert r.status_code == 404 and r.json()["code"] == "USER_NOT_FOUND"
    r = api.call("POST", "/api/v1/users/root/tokens", api.admin, json={"expires_days": 0})
    assert r.status_code == 400
    r = api.call("POST", "/api/v1/tokens/mw_00000000/revoke", api.admin)
    assert r.status_code == 404 and r.json()["code"] == "TOKEN_NOT_FOUND"
    names = [u["name"] for u in api.call("GET", "/api/v1/users", api.admin).json()]
    assert names == ["root"]


def test_the_first_admin_is_created_once_even_by_concurrent_inits(database_url: str) -> None:
    store = open_store(database_url)
    auth = users.auth_store(store)
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(
                    lambda name: users.create_first_admin(auth, name, actor="tester"),
                    ["a1", "a2", "a3", "a4"],
                )
            )
        created = [r for r in results if r is not None]
        assert len(created) == 1
        assert [u.name for u in users.list_users(auth)] == [created[0][0].name]
        assert users.authenticate(auth, created[0][1]).user.role == "admin"
    finally:
        store.close()

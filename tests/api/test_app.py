"""Deny by default: every route but the public ones answers 401 without a valid token, and 403
naming the permission to a role that lacks it. Error bodies have one shape."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import Depends

from modelward.api.app import (
    PUBLIC_PATHS,
    check_deny_by_default,
    create_app,
    permission_of,
    walk_routes,
)
from modelward.api.security import authenticate
from modelward.config import load_settings
from modelward.errors import ModelNotFoundError
from modelward.governance import users
from modelward.governance.auth import ROLE_PERMISSIONS, generate_token
from modelward.store.tables import utcnow
from tests.api.conftest import Api

SAMPLE_PARAMS = {"name": "churn", "version": "1", "ref": "churn/1", "alias": "challenger"}


def concrete(path: str) -> str:
    """``path`` with its parameters filled in with plausible values."""
    return re.sub(
        r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "mw_00000000"), path
    )


def endpoints(api: Api) -> list[tuple[str, str, str | None]]:
    """(method, concrete path, permission) of every route but the public ones."""
    out = []
    for route in walk_routes(api.app):
        if route.path in PUBLIC_PATHS:
            continue
        permission = permission_of(route)
        assert permission is not None, route.path
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, concrete(route.path), permission.name))
    return out


def bad_tokens(api: Api) -> dict[str, str | None]:
    """Tokens that must all be refused, by what is wrong with them."""
    real = api.token_for("walker", "admin")
    expired = api.token_for("walker", "admin")
    api.set_token_times(expired, expires_at=utcnow() - timedelta(seconds=1))
    revoked = api.token_for("walker", "admin")
    users.revoke_token(api.ctx.auth, revoked[:11], actor="tester")
    disabled = api.token_for("leaver", "admin")
    users.disable_user(api.ctx.auth, "leaver", actor="tester")
    return {
        "none": None,
        "garbage": "garbage",
        "empty": "",
        "forged": generate_token().secret,
        "forged with a real prefix": real[:12] + "A" * 43,
        "expired": expired,
        "revoked": revoked,
        "disabled user": disabled,
    }


def test_every_route_but_the_public_ones_refuses_a_missing_or_bad_token(api: Api) -> None:
    api.seed("churn", versions=1)
    routes = endpoints(api)
    assert len(routes) >= 20  # the walk is not vacuous
    for kind, token in bad_tokens(api).items():
        for method, path, _ in routes:
            r = api.call(method, path, token)
            assert r.status_code == 401, (kind, method, path, r.text)
            assert r.json()["code"] == "UNAUTHENTICATED"
            assert r.headers["www-authenticate"] == "Bearer"
    # the model is untouched: nothing above got through
    assert api.ctx.store.get_version("churn", 1).archived is False


def test_the_public_paths_are_the_only_routes_without_a_token(api: Api) -> None:
    public = {r.path for r in walk_routes(api.app) if permission_of(r) is None}
    assert public == set(PUBLIC_PATHS)
    assert api.call("GET", "/api/v1/health").json() == {"status": "ok"}
    schema = api.call("GET", "/api/v1/openapi.json").json()
    assert "/api/v1/models/{name}/aliases/{alias}" in schema["paths"]


def test_a_route_that_skips_authentication_or_permission_cannot_be_built() -> None:
    app = create_app(load_settings())
    try:
        check_deny_by_default(app)
        app.add_api_route("/api/v1/half", lambda: {}, dependencies=[Depends(authenticate)])
        with pytest.raises(RuntimeError, match="/api/v1/half"):
            check_deny_by_default(app)
        app.add_api_route("/api/v1/leak", lambda: {})
        with pytest.raises(RuntimeError, match="/api/v1/leak"):
            check_deny_by_default(app)
    finally:
        app.state.context.close()


def test_a_role_without_the_permission_gets_403_naming_it(api: Api) -> None:
    api.seed("churn", versions=1)
    viewer = api.token_for("vera", "viewer")
    denied = 0
    for method, path, permission in endpoints(api):
        r = api.call(method, path, viewer, json={})
        if permission is None or permission in ROLE_PERMISSIONS["viewer"]:
            assert r.status_code not in (401, 403), (method, path, r.text)
            continue
        denied += 1
        body = r.json()
        assert r.status_code == 403, (method, path, r.text)
        assert body["code"] == "PERMISSION_DENIED" and body["permission"] == permission
        assert permission in body["error"] and "admin" in body["hint"]
    assert denied >= 10


@pytest.mark.parametrize(
    ("role", "method", "path", "permission"),
    [
        ("viewer", "PUT", "/api/v1/models/churn/aliases/champion", "aliases:write"),
        ("reviewer", "DELETE", "/api/v1/models/churn/versions/1", "versions:delete"),
        ("data_scientist", "GET", "/api/v1/audit/events", "audit:read"),
        ("operator", "GET", "/api/v1/users", "users:admin"),
    ],
)
def test_role_checks(api: Api, role: str, method: str, path: str, permission: str) -> None:
    api.seed("churn")
    r = api.call(method, path, api.token_for("someone", role), json={"version": 1})
    assert r.status_code == 403 and r.json()["permission"] == permission
    assert f"role {role}" in r.json()["error"]


def test_unknown_model_is_404_with_the_same_hint_as_the_cli(api: Api) -> None:
    api.seed("churn")
    with pytest.raises(ModelNotFoundError) as raised:
        api.ctx.store.get_model("chrun")
    r = api.call("GET", "/api/v1/models/chrun", api.admin)
    assert r.status_code == 404
    assert r.json() == {
        "error": "model 'chrun' not found",
        "code": "MODEL_NOT_FOUND",
        "hint": raised.value.hint,
    }
    assert "did you mean churn" in r.json()["hint"]
    r = api.call("GET", "/api/v1/versions/churn@nope", api.admin)
    assert r.status_code == 404 and r.json()["code"] == "ALIAS_NOT_FOUND"
    r = api.call("GET", "/api/v1/versions/models:/churn/7", api.admin)
    assert r.status_code == 404 and r.json()["code"] == "VERSION_NOT_FOUND"


def test_errors_have_one_shape(api: Api) -> None:
    api.seed("churn")
    cases = [
        ("GET", "/api/v1/nowhere", 404, "NOT_FOUND"),
        ("DELETE", "/api/v1/audit/events", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/api/v1/models?limit=0", 400, "INVALID_INPUT"),
        ("GET", "/api/v1/models/churn/versions/one", 400, "INVALID_INPUT"),
        ("GET", "/api/v1/versions/churn@@x", 400, "INVALID_REFERENCE"),
        ("GET", "/api/v1/models?risk_tier=extreme", 400, "INVALID_INPUT"),
        ("POST", "/api/v1/models/churn/versions/1/archive", 200, None),
        ("PUT", "/api/v1/models/churn/aliases/challenger", 409, "VERSION_ARCHIVED"),
    ]
    for method, path, status, code in cases:
        r = api.call(method, path, api.admin, json={"version": 1})
        assert r.status_code == status, (path, r.text)
        if code:
            assert r.json()["code"] == code and r.json()["error"], (path, r.text)
    r = api.call("PUT", "/api/v1/models/churn/aliases/x", api.admin, json={"versoin": 1})
    assert r.status_code == 400 and "versoin" in r.json()["error"]

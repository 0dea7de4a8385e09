"""Each governance route refuses (403, naming the permission) a role that lacks it, and lets a
role that has it through; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from modelward.governance.auth import ROLE_PERMISSIONS
from tests.api.conftest import Api

V1 = "/api/v1/models/churn/versions/1"

#: (method, path, body, permission, a role without it, a role with it)
CASES = [
    ("POST", "/api/v1/models", {"name": "x"}, "models:write", "reviewer", "data_scientist"),
    (
        "PATCH",
        "/api/v1/models/churn",
        {"description": "d"},
        "models:write",
        "operator",
        "data_scientist",
    ),
    (
        "PATCH",
        "/api/v1/models/churn/card",
        {"fields": {"factors": "f"}},
        "models:write",
        "viewer",
        "data_scientist",
    ),
    ("POST", f"{V1}/retire", None, "versions:archive", "reviewer", "operator"),
    ("POST", f"{V1}/validate", {"rows": [{"a": 1}]}, "lifecycle:validate", "operator", "reviewer"),
    ("POST", f"{V1}/approve", {}, "lifecycle:approve", "data_scientist", "reviewer"),
    ("POST", f"{V1}/reject", {"comment": "no"}, "lifecycle:approve", "operator", "reviewer"),
    ("POST", f"{V1}/comments", {"text": "hi"}, "comments:write", "viewer", "operator"),
    ("PUT", "/api/v1/policies/high", {}, "policies:write", "reviewer", "admin"),
    ("GET", "/api/v1/audit/log", None, "audit:read", "data_scientist", "operator"),
    ("GET", "/api/v1/audit/verify", None, "audit:read", "viewer", "reviewer"),
    ("GET", "/api/v1/audit/export", None, "audit:read", "data_scientist", "reviewer"),
    ("GET", "/api/v1/trace/req-1", None, "audit:read", "viewer", "operator"),
]


@pytest.mark.parametrize(("method", "path", "body", "permission", "without", "with_"), CASES)
def test_a_missing_role_is_refused_and_a_holder_gets_through(
    api: Api,
    method: str,
    path: str,
    body: dict[str, object] | None,
    permission: str,
    without: str,
    with_: str,
) -> None:
    assert permission not in ROLE_PERMISSIONS[without] and permission in ROLE_PERMISSIONS[with_]
    api.seed("churn")
    token = api.token_for("nope", without)
    before = api.ctx.store.audit_events()
    r = api.call(method, path, token, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["permission"] == permission and f"role {without}" in r.json()["error"]
    assert api.ctx.store.audit_events() == before  # refused before anything was done
    r = api.call(method, path, api.token_for("yes", with_), json=body)
    assert r.status_code not in (401, 403), r.text


@pytest.mark.parametrize(
    "path",
    [
        f"{V1}/lifecycle",
        f"{V1}/approvals",
        f"{V1}/comments",
        f"{V1}/validation-reports",
        f"{V1}/card",
        "/api/v1/lineage/churn/1",
        "/api/v1/policies/medium",
    ],
)
def test_readers_need_models_read_only(api: Api, path: str) -> None:
    api.seed("churn")
    r = api.call("GET", path, api.token_for("vera", "viewer"))
    assert r.status_code == 200, r.text

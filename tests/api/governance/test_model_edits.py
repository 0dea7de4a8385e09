"""Model edits, comments and policies through the API (SQLite and PostgreSQL)."""

from __future__ import annotations

from modelward.client import Client
from tests.api.conftest import Api

V1 = "/api/v1/models/churn/versions/1"


def test_create_and_update_a_model(api: Api, mw: Client) -> None:
    sam = api.token_for("sam", "data_scientist")
    r = api.call("POST", "/api/v1/models", sam, json={"name": "fraud", "tags": {"team": "risk"}})
    assert r.status_code == 201 and r.json()["owner"] == "sam" and r.json()["risk_tier"] == "medium"
    r = api.call("POST", "/api/v1/models", sam, json={"name": "fraud"})
    assert r.status_code == 409 and r.json()["code"] == "ALREADY_EXISTS"
    body = {"description": "fraud scores", "goals": ["roc_auc>=0.9"], "risk_tier": "high"}
    r = api.call("PATCH", "/api/v1/models/fraud", sam, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["goals"] == [{"metric": "roc_auc", "min": 0.9}]
    assert (r.json()["description"], r.json()["risk_tier"]) == ("fraud scores", "high")
    assert mw.audit_log(object_ref="fraud", action="model.update")[-1].actor == "sam"


def test_lowering_a_risk_tier_needs_an_admin_and_bad_edits_are_refused(api: Api) -> None:
    api.seed("churn")
    sam = api.token_for("sam", "data_scientist")
    r = api.call("PATCH", "/api/v1/models/churn", sam, json={"risk_tier": "low"})
    assert r.status_code == 403 and r.json()["permission"] == "policies:write"
    r = api.call("POST", "/api/v1/models", sam, json={"name": "x", "risk_tier": "low"})
    assert r.status_code == 403 and r.json()["permission"] == "policies:write"
    assert api.call(
        "PATCH", "/api/v1/models/churn", api.admin, json={"risk_tier": "low"}
    ).is_success
    cases = [
        ({"goals": ["roc_auc>>0.9"]}, "roc_auc>>0.9"),
        ({"risk_tier": "extreme"}, "extreme"),
        ({"owner": "me"}, "owner"),
        ({"tags": ["a"]}, "tags"),
    ]
    for body, needle in cases:
        r = api.call("PATCH", "/api/v1/models/churn", api.admin, json=body)
        assert r.status_code == 400 and needle in r.json()["error"], (body, r.text)
    r = api.call("PATCH", "/api/v1/models/nope", api.admin, json={"description": "x"})
    assert r.status_code == 404 and r.json()["code"] == "MODEL_NOT_FOUND"


def test_card_fields(api: Api) -> None:
    api.seed("churn")
    path = "/api/v1/models/churn/card"
    r = api.call("PATCH", path, api.admin, json={"fields": {"intended_use": " scoring "}})
    assert r.status_code == 200 and r.json()["card"] == {"intended_use": "scoring"}
    card = api.call("GET", f"{V1}/card", api.admin)
    assert card.headers["content-type"].startswith("text/markdown")
    assert "scoring" in card.text and "not documented yet" in card.text
    html = api.call("GET", f"{V1}/card?format=html", api.admin)
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text
    assert api.call("GET", f"{V1}/card?format=json", api.admin).json()["title"]
    bad = api.call("GET", f"{V1}/card?format=pdf", api.admin)
    assert bad.status_code == 400 and "pdf" in bad.json()["error"]
    r = api.call("PATCH", path, api.admin, json={"fields": {"Bad Field": "x"}})
    assert r.status_code == 400 and "Bad Field" in r.json()["error"]
    r = api.call("PATCH", path, api.admin, json={"fields": {"intended_use": None}})
    assert r.status_code == 200 and r.json()["card"] == {}


def test_comments_and_replies(api: Api) -> None:
    api.seed("churn")
    rita = api.token_for("rita", "reviewer")
    first = api.call("POST", f"{V1}/comments", rita, json={"text": "why C=1?"})
    assert first.status_code == 201 and first.json()["actor"] == "rita"
    reply = api.call(
        "POST", f"{V1}/comments", api.admin, json={"text": "tuned", "reply_to": first.json()["id"]}
    )
    assert reply.status_code == 201 and reply.json()["parent_id"] == first.json()["id"]
    for i in range(3):
        api.call("POST", f"{V1}/comments", rita, json={"text": f"more {i}"})
    viewer = api.token_for("vera", "viewer")
    page = api.call("GET", f"{V1}/comments?limit=2", viewer).json()
    assert [c["text"] for c in page["items"]] == ["why C=1?", "tuned"] and page["next"]
    rest = api.call("GET", page["next"], viewer).json()
    assert [c["text"] for c in rest["items"]] == ["more 0", "more 1"]
    assert api.call("POST", f"{V1}/comments", rita, json={"text": "  "}).status_code == 400
    r = api.call("POST", f"{V1}/comments", rita, json={"text": "x", "reply_to": 999})
    assert r.status_code == 400 and "comment 999 is not a comment on churn/1" in r.json()["error"]
    r = api.call("POST", f"{V1}/comments", viewer, json={"text": "x"})
    assert r.status_code == 403 and r.json()["permission"] == "comments:write"


def test_policies(api: Api, mw: Client) -> None:
    viewer = api.token_for("vera", "viewer")
    shown = api.call("GET", "/api/v1/policies/high", viewer).json()
    assert shown["source"] == "built-in" and shown["policy"]["approvals"]["count"] == 2
    r = api.call("PUT", "/api/v1/policies/high", api.admin, json={"approvals": {"count": 3}})
    assert r.status_code == 200, r.text
    assert r.json()["policy"]["approvals"]["count"] == 3 and r.json()["source"].endswith(
        "high.yaml"
    )
    assert mw.get_policy("high").approvals == 3
    assert api.call("GET", "/api/v1/policies/high", viewer).json()["sha256"] == r.json()["sha256"]
    r = api.call("PUT", "/api/v1/policies/high", api.admin, json={"approvals": {"cout": 3}})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_POLICY" and "cout" in r.text
    r = api.call("PUT", "/api/v1/policies/high", api.admin, json={"rules": {}})
    assert r.status_code == 400 and "rules" in r.json()["error"]
    r = api.call("GET", "/api/v1/policies/extreme", viewer)
    assert r.status_code == 400 and "extreme" in r.json()["error"]
    r = api.call("PUT", "/api/v1/policies/low", api.token_for("rita", "reviewer"), json={})
    assert r.status_code == 403 and r.json()["permission"] == "policies:write"
    assert mw.get_policy("high").approvals == 3 and mw.get_policy("low").source == "built-in"

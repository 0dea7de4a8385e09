"""Models and versions through the API: listing in pages, reading, resolving, deleting."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api


def walk_pages(api: Api, path: str, token: str) -> list[list[Any]]:
    """Follow ``next`` links from ``path``; the items of every page."""
    pages = []
    url: str | None = path
    while url:
        body = api.call("GET", url, token).json()
        pages.append(body["items"])
        url = body["next"]
    return pages


def test_models_come_in_pages_with_a_next_link(api: Api) -> None:
    for i in range(7):
        api.seed(f"model-{i}")
    viewer = api.token_for("vera", "viewer")
    first = api.call("GET", "/api/v1/models?limit=3", viewer).json()
    assert (first["limit"], first["offset"]) == (3, 0)
    assert first["next"] == "/api/v1/models?limit=3&offset=3"
    pages = walk_pages(api, "/api/v1/models?limit=3", viewer)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [m["name"] for p in pages for m in p] == [f"model-{i}" for i in range(7)]
    exact = api.call("GET", "/api/v1/models?limit=7", viewer).json()
    assert len(exact["items"]) == 7 and exact["next"] is None
    assert api.call("GET", "/api/v1/models?limit=501", viewer).status_code == 400


def test_search_and_filters(api: Api) -> None:
    api.seed("churn")
    api.seed("fraud")
    api.ctx.store.update_model("fraud", actor="tester", tags={"team": "risk"}, risk_tier="high")
    token = api.token_for("vera", "viewer")

    def names(query: str) -> list[str]:
        return [
            m["name"] for m in api.call("GET", f"/api/v1/models?{query}", token).json()["items"]
        ]

    assert names("search=fra") == ["fraud"]
    assert names("tag=team=risk") == ["fraud"]
    assert names("risk_tier=high") == ["fraud"]
    assert names("owner=tester") == ["churn", "fraud"]
    assert api.call("GET", "/api/v1/models?tag=nonsense", token).status_code == 400


def test_versions_read_and_resolve(api: Api) -> None:
    api.seed("churn", versions=5)
    token = api.token_for("vera", "viewer")
    pages = walk_pages(api, "/api/v1/models/churn/versions?limit=2", token)
    assert [v["version"] for p in pages for v in p] == [5, 4, 3, 2, 1]
    one = api.call("GET", "/api/v1/models/churn/versions/3", token).json()
    assert (one["name"], one["version"], one["created_by"]) == ("churn", 3, "tester")
    assert api.call("GET", "/api/v1/versions/churn", token).json()["version"] == 5
    assert api.call("GET", "/api/v1/versions/churn/2", token).json()["version"] == 2
    assert api.call("GET", "/api/v1/versions/models:/churn/4", token).json()["version"] == 4
    api.call("PUT", "/api/v1/models/churn/aliases/staging", api.admin, json={"version": 2})
    assert api.call("GET", "/api/v1/versions/churn@staging", token).json()["version"] == 2
    model = api.call("GET", "/api/v1/models/churn", token).json()
    assert model["latest_version"] == 5 and model["aliases"] == {"staging": 2}


def test_archive_restore_and_delete(api: Api) -> None:
    api.seed("churn", versions=3)
    api.seed("fraud")
    admin = api.admin
    assert api.call("POST", "/api/v1/models/churn/versions/3/archive", admin).json()["archived"]
    listed = api.call("GET", "/api/v1/models/churn/versions", admin).json()["items"]
    assert [v["version"] for v in listed] == [2, 1]
    everything = api.call("GET", "/api/v1/models/churn/versions?include_archived=true", admin)
    assert len(everything.json()["items"]) == 3
    assert api.call("GET", "/api/v1/versions/churn", admin).json()["version"] == 2
    api.call("POST", "/api/v1/models/churn/versions/3/restore", admin)
    assert api.call("GET", "/api/v1/versions/churn", admin).json()["version"] == 3
    r = api.call("DELETE", "/api/v1/models/churn/versions/1", admin)
    assert r.json() == {"deleted": ["churn/1"]}
    api.call("PUT", "/api/v1/models/churn/aliases/staging", admin, json={"version": 2})
    r = api.call("DELETE", "/api/v1/models/churn/versions/2", admin)
    assert r.status_code == 409 and r.json()["code"] == "ALIAS_IN_USE"
    r = api.call("DELETE", "/api/v1/models/churn", admin)
    assert r.status_code == 409 and "modelward models alias" in r.json()["hint"]
    api.call("DELETE", "/api/v1/models/churn/aliases/staging", admin)
    assert api.call("DELETE", "/api/v1/models/churn", admin).json() == {
        "deleted": ["churn/2", "churn/3"]
    }
    assert api.call("GET", "/api/v1/models/churn", admin).status_code == 404

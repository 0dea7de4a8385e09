"""Audit log, verification and export, lineage and trace through the API (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update

from modelward.client import Client
from modelward.governance.lineage_db import store_engine
from modelward.store.tables import AuditEventRow
from tests.api.conftest import Api
from tests.governance.test_trace import record, write_log


def test_audit_log_newest_first_with_filters_and_pages(api: Api, mw: Client) -> None:
    api.seed("churn", versions=3)
    api.seed("fraud")
    api.call("PUT", "/api/v1/models/churn/aliases/staging", api.admin, json={"version": 2})
    rita = api.token_for("rita", "reviewer")
    first = api.call("GET", "/api/v1/audit/log?object=churn&limit=2", rita).json()
    expected = [e.seq for e in mw.audit_log(object_ref="churn")][::-1]
    assert [e["seq"] for e in first["items"]] == expected[:2]
    rest = api.call("GET", first["next"], rita).json()
    assert [e["seq"] for e in rest["items"]] == expected[2:4]
    mine = api.call("GET", "/api/v1/audit/log?actor=root&action=alias.set", rita).json()
    assert [e["object_id"] for e in mine["items"]] == ["churn@staging"]
    late = api.call("GET", "/api/v1/audit/log?since=2999-01-01", rita).json()
    assert late["items"] == []
    bad = api.call("GET", "/api/v1/audit/log?since=yesterday", rita)
    assert bad.status_code == 400 and "since" in bad.json()["error"]


def test_audit_verify_and_export(api: Api, mw: Client, tmp_path: Path) -> None:
    api.seed("churn", versions=2)
    auditor = api.token_for("ann", "reviewer")
    status = api.call("GET", "/api/v1/audit/verify", auditor).json()
    events = mw.audit_events()
    assert status == {
        "events": len(events),
        "head_seq": events[-1].seq,
        "head_hash": events[-1].hash,
    }
    exported = api.call("GET", "/api/v1/audit/export", auditor)
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert [x["seq"] for x in lines] == [e.seq for e in events]
    assert exported.headers["x-modelward-events"] == str(len(events))
    assert lines[-1]["hash"] == status["head_hash"] and "payload" in lines[0]
    assert not list((mw.settings.cache_dir).glob("audit-export-*"))  # scratch removed
    # someone rewrites an event behind modelward's back: verification names it
    with store_engine(mw).begin() as conn:
        conn.execute(update(AuditEventRow).where(AuditEventRow.seq == 2).values(actor="mallory"))
    broken = api.call("GET", "/api/v1/audit/verify", auditor)
    assert broken.status_code == 500
    assert broken.json()["code"] == "AUDIT_CHAIN_BROKEN" and broken.json()["seq"] == 2


def test_lineage_and_trace(api: Api, mw_home: Path) -> None:
    api.seed("iris")
    viewer, auditor = api.token_for("vera", "viewer"), api.token_for("ann", "reviewer")
    found = api.call("GET", "/api/v1/lineage/iris/1", viewer).json()
    assert found["ref"] == "iris/1" and set(found) >= {"upstream", "downstream"}
    assert api.call("GET", "/api/v1/lineage/models:/iris@nope", viewer).status_code == 404
    write_log(mw_home, record("req-1"), record("req-2", rows=1))
    traced = api.call("GET", "/api/v1/trace/req-1", auditor).json()
    (hop,) = traced["records"]
    assert traced["request_id"] == "req-1" and hop["model_version"]["ref"] == "iris/1"
    assert [r["row"] for r in hop["inference"]["rows"]] == [0, 1]
    r = api.call("GET", "/api/v1/trace/req-404", auditor)
    assert r.status_code == 404 and "req-404" in r.json()["error"]
    r = api.call("GET", "/api/v1/trace/req-1", viewer)
    assert r.status_code == 403 and r.json()["permission"] == "audit:read"

"""The SDK in remote mode against a real server (SQLite and PostgreSQL): the same answers as
the embedded client, governance acting as the token's user, errors mapped back to their
classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelward.errors import (
    AuditChainBrokenError,
    InvalidInputError,
    ModelNotFoundError,
    PermissionDeniedError,
    PolicyViolationError,
    SelfApprovalError,
)
from modelward.governance import lifecycle
from modelward.governance.lineage_db import store_engine
from modelward.store.tables import AuditEventRow
from tests.governance.test_trace import record, write_log
from tests.remote.conftest import Server, register_bc


def test_metadata_answers_equal_the_embedded_ones(server: Server, cancer: Any) -> None:
    register_bc(server, cancer)
    register_bc(server, cancer)
    sam = server.remote(server.token_for("sam", "data_scientist"))
    local = server.local
    assert sam.list() == local.list() and [m.name for m in sam.list()] == ["bc"]
    assert sam.get("bc/1") == local.get("bc/1") and sam.get("bc").version == 2
    assert sam.versions("bc") == local.versions("bc")
    assert [v.version for v in sam.versions("bc", limit=1, offset=1)] == [1]
    move = sam.set_alias("bc", "staging", 1)
    assert (move.alias, move.to_version, move.actor) == ("staging", 1, "sam")
    assert sam.get("bc@staging").version == 1
    assert sam.alias_history("bc") == local.alias_history("bc")
    assert sam.get_model("bc").aliases == {"staging": 1}
    sam.delete_alias("bc", "staging")
    assert sam.update_model("bc", description="d", tags={"team": "risk"}).description == "d"
    assert [m.name for m in sam.search(tags={"team": "risk"})] == ["bc"]
    assert sam.set_goals("bc", ["roc_auc>=0.9"]) == [{"metric": "roc_auc", "min": 0.9}]
    assert sam.archive("bc/2").archived and sam.get("bc").version == 1
    assert not sam.restore("bc/2").archived
    with pytest.raises(InvalidInputError, match="exact version"):
        sam.archive("bc")
    created = sam.create_model("fraud", description="f")
    assert created.owner == "sam" and local.get_model("fraud") == created
    assert server.admin.delete("fraud") == []
    moves = server.admin.audit_events(object_id="bc@staging")
    assert moves == local.audit_events(object_id="bc@staging") and len(moves) == 2


def test_governance_through_the_api(server: Server, cancer: Any, tmp_path: Path) -> None:
    register_bc(server, cancer)
    holdout = tmp_path / "holdout.parquet"
    cancer[1].to_parquet(holdout)
    sam = server.remote(server.token_for("sam", "data_scientist"))
    report = sam.validate("bc", holdout)
    assert report.passed and report.actor == "sam" and sam.get("bc/1").stage == "validated"
    assert sam.validation_reports("bc/1") == server.local.validation_reports("bc/1")
    assert sam.report_document(report)["ref"] == "bc/1"
    assert "Validation of bc/1" in sam.report_html(report.id)
    first = sam.comment("bc/1", "ready for review")
    reply = server.remote(server.token_for("rita", "reviewer")).comment(
        "bc/1", "looking", reply_to=first.id
    )
    assert reply.parent_id == first.id and sam.comments("bc/1") == server.local.comments("bc/1")
    # the author holds the reviewer role, yet may not approve their own version
    tester = server.remote(server.token_for("tester", "reviewer"))
    with pytest.raises(SelfApprovalError, match="segregation of duties") as refused:
        tester.approve("bc/1")
    assert refused.value.hint and refused.value.exit_code == 6
    rita = server.remote(server.admin.create_token("rita")[1])
    assert rita.role == "reviewer"
    decision = rita.approve("bc/1", comment="ok", digest=sam.get("bc/1").digest[:16])
    assert (decision.actor, decision.role, decision.decision) == ("rita", "reviewer", "approve")
    assert rita.approvals("bc/1") == server.local.approvals("bc/1")
    state = rita.governance_state("bc/1")
    assert state == server.local.governance_state("bc/1")
    assert lifecycle.summary(state, rita.get_policy("medium"))["production_needs"] == []
    sam.set_alias("bc", "champion", 1)
    assert sam.get("bc/1").stage == "production"
    assert "# Model card: bc/1" in sam.model_card("bc@champion")
    assert sam.update_card("bc", intended_use="triage").card == {"intended_use": "triage"}
    assert sam.lineage("bc/1")["downstream"]["approvals"][0]["actor"] == "rita"
    with pytest.raises(PolicyViolationError, match="champion"):
        sam.retire("bc/1")


def test_policies_audit_and_trace(server: Server, cancer: Any, tmp_path: Path) -> None:
    register_bc(server, cancer)
    admin = server.admin
    assert admin.get_policy("high") == server.local.get_policy("high")
    assert admin.set_policy("high", {"approvals": {"count": 3}}).approvals == 3
    assert server.local.get_policy("high").approvals == 3
    auditor = server.remote(server.token_for("ann", "reviewer"))
    with pytest.raises(PermissionDeniedError) as denied:
        auditor.set_policy("low", {})
    assert denied.value.permission == "policies:write"
    status = auditor.verify_audit()
    assert status == server.local.verify_audit()
    out = tmp_path / "audit.jsonl"
    assert auditor.export_audit(out) == status.events
    assert json.loads(out.read_text().splitlines()[-1])["hash"] == status.head_hash
    assert auditor.audit_log(object_ref="bc") == server.local.audit_log(object_ref="bc")
    assert auditor.audit_log(limit=2) == server.local.audit_log(limit=2)
    write_log(server.local.settings.home, record("req-1", model="bc"))
    traced = auditor.trace("req-1")
    assert traced["records"][0]["model_version"]["ref"] == "bc/1"
    with pytest.raises(ModelNotFoundError):  # any 404 maps back to its class
        auditor.get_model("nope")
    with store_engine(server.local).begin() as conn:
        conn.execute(
            AuditEventRow.__table__.update().where(AuditEventRow.seq == 1).values(actor="x")
        )
    with pytest.raises(AuditChainBrokenError) as broken:
        auditor.verify_audit()
    assert broken.value.seq == 1 and "audit chain broken at event 1" in broken.value.message


def test_what_needs_the_store_here_is_refused_clearly(server: Server, tmp_path: Path) -> None:
    remote = server.admin
    for call in (
        lambda: remote.predict_file("m/1", tmp_path / "a.csv", tmp_path / "b.csv"),
        lambda: remote.query_logs("SELECT 1"),
        lambda: remote.serve(["m"]),
        lambda: remote.registry,
    ):
        with pytest.raises(InvalidInputError) as refused:
            call()
        assert "needs direct access" in refused.value.message
        assert "MODELWARD_TRACKING_URI" in (refused.value.hint or "")

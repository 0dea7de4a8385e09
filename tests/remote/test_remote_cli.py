"""The CLI in remote mode (MODELWARD_TRACKING_URI and MODELWARD_TOKEN set) against a real
server, and tokens that are forged, expired or revoked: clear errors, exit code 6."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from modelward.errors import EXIT_REFUSED, EXIT_UNAVAILABLE, AuthenticationError
from modelward.governance.auth import generate_token, hash_token
from modelward.governance.lineage_db import store_engine
from modelward.store.tables import TokenRow, utcnow
from tests.governance.test_lifecycle import validated
from tests.governance.test_trace import record, write_log
from tests.remote.conftest import Server, register_bc
from tests.support.cli import Run


def test_models_aliases_comments_and_approvals(server: Server, cancer: Any, run: Run) -> None:
    register_bc(server, cancer)
    validated(server.local, "bc", 1)
    server.env(server.token_for("sam", "data_scientist"))
    listed = run("models", "list", "--json")
    assert listed.code == 0, listed.err
    assert [m["name"] for m in json.loads(listed.out)] == ["bc"]
    moved = run("models", "alias", "bc", "1", "staging")
    assert moved.code == 0, moved.err
    assert server.local.get_model("bc").aliases == {"staging": 1}
    assert server.local.alias_history("bc")[-1].actor == "sam"  # the token's user, not the OS's
    said = run("comment", "bc/1", "please review", "--json")
    assert said.code == 0 and json.loads(said.out)["actor"] == "sam"
    server.env(server.token_for("tester", "reviewer"))  # the author of bc/1
    refused = run("approve", "bc/1")
    assert refused.code == EXIT_REFUSED
    assert "may not approve bc/1" in refused.err and "hint:" in refused.err
    server.env(server.token_for("rita", "reviewer"))
    approved = run("approve", "bc@staging", "--comment", "ok", "--json")
    assert approved.code == 0, approved.err
    body = json.loads(approved.out)
    assert (body["actor"], body["role"], body["stage"]) == ("rita", "reviewer", "approved")
    shown = run("lifecycle", "bc/1", "--json")
    assert shown.code == 0 and json.loads(shown.out)["approvals"]["counted"] == ["rita"]
    assert run("approvals", "bc/1").code == 0 and run("comments", "bc/1").code == 0


def test_audit_verify_and_trace(server: Server, cancer: Any, run: Run) -> None:
    register_bc(server, cancer)
    write_log(server.local.settings.home, record("req-1", model="bc"))
    server.env(server.admin_token)
    verified = run("audit", "verify")
    assert verified.code == 0 and "chain intact" in verified.out, verified.err
    traced = run("trace", "req-1", "--json")
    assert traced.code == 0 and json.loads(traced.out)["records"], traced.err


def test_forged_expired_and_revoked_tokens_are_refused_clearly(server: Server, run: Run) -> None:
    admin = server.admin
    expired = server.token_for("eve", "viewer")
    with store_engine(server.local).begin() as conn:
        conn.execute(
            update(TokenRow)
            .where(TokenRow.hash == hash_token(expired))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    revoked = admin.create_token("eve")[1]
    admin.revoke_token(revoked[:11])
    cases = {
        generate_token().secret: "invalid API token",
        "garbage": "invalid API token",
        expired: "expired",
        revoked: "was revoked",
        None: "no API token given",
    }
    for token, needle in cases.items():
        server.env(token)
        result = run("models", "list")
        assert result.code == EXIT_REFUSED, (token, result.err)
        assert needle in result.err and "MODELWARD_TOKEN" in result.err, result.err
        with pytest.raises(AuthenticationError, match=needle):
            server.remote(token).list()


def test_an_unreachable_server_names_the_uri(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MODELWARD_TRACKING_URI", f"http://127.0.0.1:{port}")
    result = run("models", "list")
    assert result.code == EXIT_UNAVAILABLE
    assert f"http://127.0.0.1:{port}" in result.err and "modelward server" in result.err


def test_registering_a_bad_file_in_remote_mode_fails_here_before_any_upload(
    server: Server, run: Run, tmp_path: Any
) -> None:
    model = tmp_path / "model.json"
    model.write_text("{}")
    server.env(server.admin_token)
    result = run("models", "register", str(model), "--name", "m")
    assert result.code == 3 and "model.json" in result.err
    assert server.local.list() == []


def test_users_and_tokens_through_the_server(server: Server, run: Run) -> None:
    server.env(server.token_for("ada", "admin"))
    made = run("users", "create", "val", "--role", "reviewer")
    assert made.code == 0, made.err
    listed = run("users", "list", "--json")
    assert listed.code == 0 and "val" in [u["name"] for u in json.loads(listed.out)]
    token = run("tokens", "create", "val", "--expires-days", "1", "--json")
    assert token.code == 0, token.err
    prefix = json.loads(token.out)["prefix"]
    assert run("tokens", "revoke", prefix).code == 0
    assert [t.status(utcnow()) for t in server.local.list_tokens("val")] == ["revoked"]
    server.env(server.token_for("vic", "viewer"))
    refused = run("users", "create", "eve", "--role", "admin")
    assert refused.code == EXIT_REFUSED and "users:admin" in refused.err

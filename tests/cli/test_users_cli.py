"""`modelward init` (first admin), `modelward users …` and `modelward tokens …`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from modelward.client import Client
from modelward.config import load_settings
from modelward.errors import EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND
from modelward.governance import users
from tests.support.cli import Run

TOKEN = re.compile(r"mw_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _caller(token: str) -> users.Caller:
    client = Client(load_settings())
    try:
        return users.authenticate(users.auth_store(client.registry.store), token)
    finally:
        client.close()


def test_init_prints_the_first_admins_token_once(run: Run, mw_home: Path) -> None:
    first = run("init")
    assert first.code == 0, first.err
    tokens = TOKEN.findall(first.out)
    assert len(tokens) == 1 and "shown once" in first.out
    caller = _caller(tokens[0])
    assert (caller.name, caller.user.role) == ("admin", "admin")
    second = run("init")
    assert second.code == 0 and not TOKEN.search(second.out + second.err)
    assert "no admin created" in second.out
    assert json.loads(run("init", "--json").out)["admin"] is None
    listed = json.loads(run("users", "list", "--json").out)
    assert [(u["name"], u["role"]) for u in listed] == [("admin", "admin")]
    db = (mw_home / "modelward.db").read_bytes()
    assert tokens[0].encode() not in db and tokens[0][12:].encode() not in db


def test_init_names_the_admin_and_says_so_in_json(run: Run) -> None:
    result = run("init", "--admin", "ops-lead", "--json")
    admin = json.loads(result.out)["admin"]
    assert admin["name"] == "ops-lead" and TOKEN.fullmatch(admin["token"])
    assert _caller(admin["token"]).name == "ops-lead"


def test_users_and_tokens_commands(run: Run) -> None:
    run("init")
    created = run("users", "create", "alice", "--role", "data_scientist")
    assert created.code == 0 and "alice" in created.out and not TOKEN.search(created.out)
    made = run("tokens", "create", "alice", "--expires-days", "7", "-d", "notebook")
    assert made.code == 0 and "shown once" in made.err
    secret = made.out.strip()
    assert TOKEN.fullmatch(secret) and _caller(secret).name == "alice"
    listed = run("tokens", "list", "alice", "--json")
    records = json.loads(listed.out)
    assert [t["prefix"] for t in records] == [secret[:11]] and secret not in listed.out
    assert records[0]["expires_at"] and records[0]["description"] == "notebook"
    table = run("tokens", "list")
    assert table.code == 0 and secret[:11] in table.out and secret not in table.out
    assert run("tokens", "revoke", secret[:11]).code == 0
    assert json.loads(run("tokens", "list", "alice", "--json").out)[0]["status"] == "revoked"
    assert run("users", "disable", "alice").code == 0
    assert json.loads(run("users", "list", "--json").out)[1]["disabled"] is True
    assert run("users", "enable", "alice").code == 0
    assert "enabled" in run("users", "list").out


def test_bad_user_commands_exit_with_clear_errors(run: Run) -> None:
    run("init")
    bad_role = run("users", "create", "bob", "--role", "god")
    assert bad_role.code == EXIT_INVALID and "viewer" in bad_role.err
    assert run("users", "create", "ADMIN", "--role", "viewer").code == EXIT_CONFLICT
    last = run("users", "disable", "admin")
    assert last.code == EXIT_CONFLICT and "last enabled admin" in last.err
    assert run("tokens", "create", "nobody").code == EXIT_NOT_FOUND
    assert run("tokens", "revoke", "mw_00000000").code == EXIT_NOT_FOUND
    assert run("tokens", "create", "admin", "--expires-days", "0").code == EXIT_INVALID

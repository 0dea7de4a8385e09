"""The audit trail: filters, chain verification against direct database edits (SQLite and
PostgreSQL), and exports that verify offline with the recipe in docs/audit.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from modelward.client import Client
from modelward.errors import EXIT_REFUSED, AuditChainBrokenError, InvalidInputError
from modelward.governance.audit import audit_log, export_audit, verify_audit
from modelward.governance.lineage_db import store_engine
from modelward.store.audit import chain_hash
from tests.store.helpers import new_version
from tests.support.cli import Run

DOCS = Path(__file__).resolve().parents[2] / "docs"


def fill(client: Client) -> int:
    """Seven events: model, two versions, an update, an alias move, another model, archive."""
    store, actor = client.registry.store, "alice"
    store.create_version("churn", new_version("a"), actor=actor, create_model={})
    store.create_version("churn", new_version("b"), actor=actor)
    store.update_model("churn", actor="bob", description="Churn risk ✓")
    store.set_alias("churn", "champion", 1, actor="bob")
    store.create_model("churn_v2", actor=actor)
    store.set_archived("churn", 2, True, actor=actor)
    return len(client.audit_events())


def sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as con:
        con.execute(text(statement), params)


def row(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as con:
        found = con.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq})
        return dict(found.mappings().one())


def test_an_intact_chain_verifies(client: Client, run: Run) -> None:
    count = fill(client)
    status = verify_audit(client)
    assert status.events == status.head_seq == count >= 7
    assert status.head_hash == client.audit_events()[-1].hash
    result = run("audit", "verify")
    assert result.code == 0 and f"{count} events, chain intact" in result.out


def test_an_empty_chain_verifies(client: Client) -> None:
    assert verify_audit(client).events == 0


def _actor_changed(engine: Engine) -> None:
    sql(engine, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")


def _payload_changed(engine: Engine) -> None:
    payload = str(row(engine, 3)["payload"]).replace('"alice"', '"mallory"')
    sql(engine, "UPDATE audit_events SET payload = :p WHERE seq = 3", p=payload)


def _row_deleted(engine: Engine) -> None:
    sql(engine, "DELETE FROM audit_events WHERE seq = 3")


def _rehashed(engine: Engine) -> None:
    """The careful forger: a new payload (columns untouched) and its hash recomputed."""
    old = row(engine, 3)
    payload = str(old["payload"]).replace('"after":', '"after":{"forged":true},"x":', 1)
    digest = chain_hash(str(old["prev_hash"]), payload)
    sql(
        engine, "UPDATE audit_events SET payload = :p, hash = :h WHERE seq = 3", p=payload, h=digest
    )


TAMPERING: dict[str, Callable[[Engine], None]] = {
    "actor changed": _actor_changed,
    "payload changed": _payload_changed,
    "row deleted": _row_deleted,
    "hash recomputed": _rehashed,
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_an_edited_row_is_named(client: Client, run: Run, tamper: Callable[[Engine], None]) -> None:
    fill(client)
    tamper(store_engine(client))
    with pytest.raises(AuditChainBrokenError) as info:
        verify_audit(client)
    assert info.value.seq == 3 and info.value.to_dict()["seq"] == 3
    result = run("audit", "verify")
    assert result.code == EXIT_REFUSED
    assert "audit chain broken at event 3:" in result.err and "chain intact" not in result.out


def test_the_last_event_rehashed_or_removed_is_caught_by_the_head(client: Client) -> None:
    count = fill(client)
    engine = store_engine(client)
    last = row(engine, count)
    payload = str(last["payload"]).replace('"after":', '"after":{"forged":true},"x":', 1)
    digest = chain_hash(str(last["prev_hash"]), payload)
    sql(
        engine,
        "UPDATE audit_events SET payload = :p, hash = :h WHERE seq = :s",
        p=payload,
        h=digest,
        s=count,
    )
    with pytest.raises(AuditChainBrokenError, match="rewritten") as info:
        verify_audit(client)
    assert info.value.seq == count
    sql(engine, "DELETE FROM audit_events WHERE seq = :s", s=count)
    with pytest.raises(AuditChainBrokenError, match="removed from the end") as info:
        verify_audit(client)
    assert info.value.seq == count


def test_a_changed_time_is_named(client: Client) -> None:
    fill(client)
    engine = store_engine(client)
    when = datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as con:
        con.execute(text("UPDATE audit_events SET at = :t WHERE seq = 2"), {"t": when})
    with pytest.raises(AuditChainBrokenError, match="time") as info:
        verify_audit(client)
    assert info.value.seq == 2


def test_log_filters(client: Client, run: Run) -> None:
    count = fill(client)
    everything = audit_log(client)
    assert [e.seq for e in everything] == list(range(1, count + 1))
    churn = {e.object_id for e in audit_log(client, object_ref="churn")}
    assert churn == {"churn", "churn/1", "churn/2", "churn@champion"}  # not churn_v2
    assert {e.object_id for e in audit_log(client, object_ref="models:/churn/2")} == {"churn/2"}
    assert {e.actor for e in audit_log(client, actor="bob")} == {"bob"}
    assert [e.action for e in audit_log(client, action="model.update")] == ["model.update"]
    assert [e.seq for e in audit_log(client, limit=2)] == [count - 1, count]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert audit_log(client, since=future) == []
    assert len(audit_log(client, since="2000-01-01")) == count
    with pytest.raises(InvalidInputError, match="ISO 8601"):
        audit_log(client, since="yesterday")
    result = run("audit", "log", "--object", "churn", "--actor", "bob", "--json")
    assert result.code == 0
    events = json.loads(result.out)
    assert [e["action"] for e in events] == ["model.update", "alias.set"]
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in events)
    table = run("audit", "log", "--limit", "2")
    assert table.code == 0 and "showing the last 2 events" in table.err


def _recipe() -> str:
    text_ = (DOCS / "audit.md").read_text()
    match = re.search(r"<!-- verify-recipe -->\s*```python\n(.*?)```", text_, re.S)
    assert match, "docs/audit.md lost its verification recipe"
    return match.group(1)


def test_export_round_trips_and_verifies_offline(client: Client, run: Run, tmp_path: Path) -> None:
    count = fill(client)
    out = tmp_path / "audit.jsonl"
    result = run("audit", "export", "--out", str(out))
    assert result.code == 0 and f"exported {count} events" in result.out
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stored = client.audit_events()
    assert [e["hash"] for e in lines] == [e.hash for e in stored]
    assert json.loads(lines[2]["payload"])["actor"] == lines[2]["actor"]
    recipe = _recipe()
    assert len(recipe.strip().splitlines()) <= 12
    script = tmp_path / "verify_audit.py"
    script.write_text(recipe)
    ok = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True)
    assert ok.returncode == 0 and f"{count} events, chain intact" in ok.stdout
    tampered = tmp_path / "tampered.jsonl"
    lines[3]["actor"] = "mallory"
    tampered.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines))
    bad = subprocess.run(
        [sys.executable, str(script), str(tampered)], capture_output=True, text=True
    )
    assert bad.returncode != 0 and "event 4" in bad.stderr + bad.stdout


def test_export_is_atomic(client: Client, run: Run, tmp_path: Path) -> None:
    fill(client)
    missing = tmp_path / "no-such-folder" / "audit.jsonl"
    result = run("audit", "export", "--out", str(missing))
    assert result.code != 0 and not missing.exists()
    folder = tmp_path / "exports"
    folder.mkdir()
    assert export_audit(client, folder / "audit.jsonl") == len(client.audit_events())
    assert [p.name for p in folder.iterdir()] == ["audit.jsonl"]  # no temporary file left

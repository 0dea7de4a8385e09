"""``modelward audit …``: read, verify and export the hash-chained audit trail."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from modelward.cli.output import client, console, err_console, print_json

app = typer.Typer(help="Read, verify and export the audit trail.", no_args_is_help=True)
_SUMMARY_CHARS = 80


@app.callback()
def audit() -> None:
    """The audit trail: who did what to which object, when, hash-chained (see docs/audit.md)."""


@app.command("log")
def log(
    object_ref: str | None = typer.Option(
        None,
        "--object",
        help="Object id: NAME (with its versions and aliases), NAME/N, NAME@ALIAS.",
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only events at or after this ISO time."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Only events by this actor."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action, e.g. version.create."
    ),
    limit: int = typer.Option(100, "--limit", help="Most recent events to show; 0 shows all."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show audit events, oldest first (the most recent --limit of those that match)."""
    if limit < 0:
        raise typer.BadParameter("--limit must be 0 (all events) or more")
    with closing(client()) as mw:
        events = mw.audit_log(
            object_ref=object_ref,
            since=since,
            actor=actor,
            action=action,
            limit=limit + 1 if limit else None,
        )
    more = limit and len(events) > limit
    shown = events[1:] if more else events
    if json_out:
        print_json([e.to_dict() for e in shown])
    else:
        table = Table("seq", "when (UTC)", "actor", "action", "object", "change")
        for e in shown:
            table.add_row(
                str(e.seq),
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                escape(e.actor),
                escape(e.action),
                escape(f"{e.object_type} {e.object_id}"),
                escape(_change(e.before, e.after)),
            )
        console.print(table)
    if more:
        err_console.print(f"[dim]showing the last {limit} events; raise --limit to see more[/]")


def _change(before: Any, after: Any) -> str:
    text = json.dumps(after if after is not None else before, default=str, ensure_ascii=False)
    text = "" if text == "null" else text
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


@app.command("verify")
def verify() -> None:
    """Recompute the whole hash chain; name the first broken event and exit 6 if one is found."""
    with closing(client()) as mw:
        status = mw.verify_audit()
    console.print(f"{status.events} events, chain intact", highlight=False)
    console.print(f"[dim]head: event {status.head_seq}, sha256 {status.head_hash}[/]")


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", "-o", help="JSON-lines file to write (atomically)."),
) -> None:
    """Write every event (payload, prev_hash, hash) as JSON lines, verifiable elsewhere."""
    with closing(client()) as mw:
        count = mw.export_audit(out)
    console.print(f"exported {count} events to {escape(str(out))}", highlight=False)

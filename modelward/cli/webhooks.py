"""``modelward webhooks …``: deliver events (audit events) to HTTP subscribers."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from modelward.cli.output import client, console, print_json
from modelward.client import Client
from modelward.governance import webhooks
from modelward.store.sql import SqlStore


def _store(mw: Client | None = None) -> SqlStore:
    store = (mw or client()).registry.store
    assert isinstance(store, SqlStore)  # events live next to the audit chain in the SQL store
    return store


app = typer.Typer(
    help="Deliver events to webhooks (signed, retried, logged).", no_args_is_help=True
)


@app.command("add")
def add(
    url: str = typer.Argument(..., help="http(s) URL that receives POSTed events."),
    event: list[str] = typer.Option(
        [],
        "--event",
        "-e",
        help="Action prefix to send, e.g. 'alias.' (repeatable; all when none).",
    ),
) -> None:
    """Subscribe URL to events from now on; prints its signing secret."""
    mw = client()
    hook = webhooks.add(_store(mw), url, event, actor=mw.settings.actor)
    console.print(
        f"webhook {hook.id} → {hook.url} ({', '.join(hook.events) or 'all events'})",
        highlight=False,
    )
    console.print(f"signing secret: {webhooks.secret(mw.settings, hook.id)}", highlight=False)


@app.command("list")
def list_hooks(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List webhooks."""
    hooks = webhooks.list_webhooks(_store())
    if json_out:
        print_json(
            [{"id": h.id, "url": h.url, "events": h.events, "active": h.active} for h in hooks]
        )
        return
    table = Table("id", "url", "events", "created by")
    for h in hooks:
        table.add_row(str(h.id), h.url, ", ".join(h.events) or "all", h.created_by)
    console.print(table)


@app.command("remove")
def remove(webhook_id: int = typer.Argument(..., help="Webhook id.")) -> None:
    """Stop delivering to a webhook."""
    mw = client()
    webhooks.remove(_store(mw), webhook_id, actor=mw.settings.actor)
    console.print(f"removed webhook {webhook_id}", highlight=False)


@app.command("deliveries")
def deliveries(
    webhook_id: int | None = typer.Option(None, "--webhook", help="Only this webhook."),
    state: str | None = typer.Option(None, "--state", help="pending, delivered or failed."),
    limit: int = typer.Option(100, "--limit", help="Most rows."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the delivery log, newest first."""
    rows = webhooks.deliveries(_store(), webhook_id=webhook_id, state=state, limit=limit)
    if json_out:
        print_json(rows)
        return
    table = Table("id", "webhook", "event", "state", "attempts", "last status", "last error")
    for r in rows:
        table.add_row(
            *(
                str(r[k]) if r[k] is not None else ""
                for k in (
                    "id",
                    "webhook",
                    "event",
                    "state",
                    "attempts",
                    "last_status",
                    "last_error",
                )
            )
        )
    console.print(table)


@app.command("dispatch")
def dispatch(
    loop: bool = typer.Option(False, "--loop", help="Keep dispatching until interrupted."),
    interval: float = typer.Option(
        5.0, "--interval", min=0.1, help="Seconds between rounds with --loop."
    ),
) -> None:
    """Queue new events and send the due deliveries (once, or in a loop)."""
    mw = client()
    send = webhooks.http_sender()
    while True:
        counts = webhooks.dispatch(_store(mw), mw.settings, send)
        console.print(", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)
        if not loop:
            return
        time.sleep(interval)

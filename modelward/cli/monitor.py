"""``modelward monitor …``: run monitors, list them, work alerts, show resource metrics."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from modelward.cli.output import client, console, print_json
from modelward.client import Client
from modelward.monitoring import alerts
from modelward.monitoring.evaluate import monitor_states, run_due_monitors
from modelward.monitoring.monitors import parse_duration
from modelward.monitoring.resources import resource_summary
from modelward.store.sql import SqlStore
from modelward.store.tables import utcnow

app = typer.Typer(
    help="Monitors over windows of the inference log, and the alerts they raise.",
    no_args_is_help=True,
)
_STATUS_STYLE = {"ok": "green", "breach": "red", "insufficient data": "yellow", "error": "red"}


def _store(mw: Client) -> SqlStore:
    store = mw.registry.store
    assert isinstance(store, SqlStore)  # alerts live next to the audit chain in the SQL store
    return store


@app.command("run")
def run(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's monitors."),
    force: bool = typer.Option(False, "--force", help="Run every monitor, due or not."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the monitors that are due (or all with --force); breaches raise alerts."""
    mw = client()
    outcomes = run_due_monitors(mw.settings, _store(mw), only_model=model, force=force)
    if json_out:
        print_json([o.to_dict() for o in outcomes])
        return
    if not outcomes:
        console.print("no monitor is due (use --force to run them all)")
        return
    table = Table("model", "monitor", "metric", "status", "value", "threshold", "alert", "message")
    for o in outcomes:
        style = _STATUS_STYLE.get(o.status, "")
        table.add_row(
            o.model,
            o.monitor,
            o.metric,
            f"[{style}]{o.status}[/]",
            "" if o.value is None else f"{o.value:g}",
            o.threshold,
            "" if o.alert_id is None else str(o.alert_id),
            escape(o.message),
        )
    console.print(table)


@app.command("list")
def list_monitors(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's monitors."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the defined monitors with their last run."""
    mw = client()
    states = monitor_states(mw.settings, _store(mw), model)
    if json_out:
        print_json(states)
        return
    table = Table("model", "monitor", "metric", "window", "threshold", "severity", "every")
    table.add_column("last run (UTC)")
    table.add_column("last status")
    for s in states:
        table.add_row(
            s["model"],
            s["name"],
            s["metric"],
            s["window"],
            s["threshold"],
            s["severity"],
            s["schedule"]["every"],
            s["last_run_at"] or "never",
            s["last_status"] or "",
        )
    console.print(table)


@app.command("alerts")
def list_alerts(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's alerts."),
    status: str | None = typer.Option(
        None, "--status", help="open, acknowledged or resolved (all when not given)."
    ),
    limit: int = typer.Option(100, "--limit", min=1, help="Most alerts."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List alerts, newest first."""
    found = alerts.list_alerts(_store(client()), model=model, status=status, limit=limit)
    if json_out:
        print_json([a.to_dict() for a in found])
        return
    table = Table("id", "model", "monitor", "severity", "status", "value", "threshold", "count")
    table.add_column("last seen (UTC)")
    for a in found:
        table.add_row(
            str(a.id),
            a.model,
            a.monitor,
            a.severity,
            a.status,
            "" if a.value is None else f"{a.value:g}",
            a.threshold,
            str(a.count),
            f"{a.last_seen:%Y-%m-%d %H:%M:%S}",
        )
    console.print(table)


@app.command("ack")
def ack(alert_id: int = typer.Argument(..., help="Alert id.")) -> None:
    """Acknowledge an open alert (you are on it)."""
    mw = client()
    alert = alerts.acknowledge(_store(mw), alert_id, actor=mw.settings.actor)
    console.print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}", highlight=False)


@app.command("resolve")
def resolve(alert_id: int = typer.Argument(..., help="Alert id.")) -> None:
    """Resolve an open or acknowledged alert."""
    mw = client()
    alert = alerts.resolve(_store(mw), alert_id, actor=mw.settings.actor)
    console.print(f"alert {alert.id} resolved by {alert.resolved_by}", highlight=False)


@app.command("resources")
def resources(
    model: str = typer.Argument(..., help="Model name."),
    window: str = typer.Option("1h", "--window", "-w", help="How far back: 15m, 1h, 7d…"),
    version: int | None = typer.Option(None, "--version", help="Only this version."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Latency, throughput, errors, CPU and memory of MODEL over the last --window."""
    mw = client()
    end = utcnow()
    start = end - parse_duration(window, "--window")
    summary = resource_summary(mw.settings.home, model, start, end, version)
    if json_out:
        print_json(summary)
        return
    table = Table(
        "metric", "value", title=f"{model} from {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"
    )
    for key, value in summary.items():
        if key in ("model", "version", "window_start", "window_end", "workers"):
            continue
        shown = (
            "no data" if value is None else f"{value:.4g}" if isinstance(value, float) else value
        )
        table.add_row(key, str(shown))
    console.print(table)

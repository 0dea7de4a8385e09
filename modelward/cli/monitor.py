"""``modelward monitor …``: run monitors, list them, work alerts, show resource metrics, write
reports."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from modelward.cli.output import client, console, print_json
from modelward.client import Client
from modelward.monitoring import alerts
from modelward.monitoring.evaluate import monitor_states, run_due_monitors
from modelward.store.sql import SqlStore

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
    summary = client().resources(model, window, version=version)
    if json_out:
        print_json(summary)
        return
    start, end = summary["window_start"][:16], summary["window_end"][:16]
    table = Table("metric", "value", title=f"{model} from {start} to {end} UTC")
    for key, value in summary.items():
        if key in ("model", "version", "window_start", "window_end", "workers"):
            continue
        shown = (
            "no data" if value is None else f"{value:.4g}" if isinstance(value, float) else value
        )
        table.add_row(key, str(shown))
    console.print(table)


@app.command("report")
def report(
    model: str = typer.Argument(..., help="Model name."),
    out: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    window: str = typer.Option("7d", "--window", "-w", help="How far back: 1d, 7d… or START/END."),
    version: int | None = typer.Option(None, "--version", help="Only this version."),
    step: str | None = typer.Option(
        None, "--step", help="Bucket length: 1h or 1d (default 1h up to 2d windows, else 1d)."
    ),
) -> None:
    """Write one self-contained HTML report of MODEL's monitoring over the last --window."""
    found = client().monitor_report(model, out, window, version=version, step=step)
    rows = found["rows"]
    console.print(
        f"report written to {found['out']} ({found['bytes'] / 1024:.0f} KB): "
        f"{len(found['buckets'])} steps of {found['step']}, {rows['scored']} scored rows, "
        f"{rows['requests']} requests, {rows['labelled']} labelled rows",
        highlight=False,
        soft_wrap=True,
    )

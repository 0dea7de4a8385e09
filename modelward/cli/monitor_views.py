"""``modelward monitor performance|kpis|drift``: what a window of live traffic looked like."""

from __future__ import annotations

import typer
from rich.table import Table

from modelward.cli.output import client, console, print_json

WINDOW = typer.Option("1d", "--window", "-w", help="1h, 1d, 7d… ending now, or START/END.")
VERSION = typer.Option(None, "--version", help="Only this version.")
JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    """Add the commands to the ``monitor`` group."""
    app.command("performance")(performance)
    app.command("kpis")(kpis)
    app.command("drift")(drift)


def performance(
    model: str = typer.Argument(..., help="Model name."),
    window: str = WINDOW,
    version: int | None = VERSION,
    task: str | None = typer.Option(None, "--task", help="classification, regression, forecast."),
    json_out: bool = JSON,
) -> None:
    """Metrics on the window's labelled records, checked against the model's accuracy goals."""
    found, goals = client().performance(model, window, version=version, task=task)
    if json_out:
        print_json({**found.to_dict(), "goals": goals})
        return
    title = f"{model}: {found.n_labelled} labelled rows ({found.task or 'no task'})"
    table = Table("metric", "value", title=title, title_justify="left")
    for name, value in sorted(found.metrics.items()):
        table.add_row(name, f"{value:.4g}")
    if not found.metrics:
        table.add_row("-", "insufficient data: no labelled records in the window")
    console.print(table)
    if goals:
        checks = Table("goal", "status", "detail", title="accuracy goals", title_justify="left")
        for goal in goals:
            checks.add_row(goal["name"], goal["status"], str(goal.get("detail", "")))
        console.print(checks)


def kpis(
    model: str = typer.Argument(..., help="Model name."),
    window: str = WINDOW,
    json_out: bool = JSON,
) -> None:
    """The model's business KPIs (the `kpis:` of its monitor file) over the window."""
    found = client().kpis(model, None, window)
    if json_out:
        print_json([k.to_dict() for k in found])
        return
    table = Table("KPI", "value", "target", "met", "rows", title=model, title_justify="left")
    for k in found:
        value = "insufficient data" if k.value is None else f"{k.value:.6g}"
        target = "-" if k.target is None else f"{k.direction} {k.target:g}"
        table.add_row(k.name, value, target, "-" if k.met is None else str(k.met), str(k.rows))
    if not found:
        table.add_row("-", "no KPIs defined (kpis: in the monitor file)", "", "", "")
    console.print(table)


def drift(
    model: str = typer.Argument(..., help="Model name."),
    window: str = WINDOW,
    version: int | None = VERSION,
    share: float = typer.Option(0.5, "--share", help="Dataset drift: share of drifted columns."),
    json_out: bool = JSON,
) -> None:
    """Drift of the window's traffic against each version's reference profile."""
    reports = client().window_drift(model, window, version=version, share=share)
    if json_out:
        print_json({str(v): r.to_dict() for v, r in reports.items()})
        return
    if not reports:
        console.print(f"{model}: insufficient data (no scored rows in the window)")
    for number, report in reports.items():
        verdict = "DRIFTED" if report.dataset_drifted else "no dataset drift"
        table = Table(
            "column",
            "test",
            "statistic",
            "threshold",
            "drifted",
            title=f"{model}/{number}: {verdict} ({report.drift_share:.0%} of columns)",
            title_justify="left",
        )
        for c in report.columns:
            stat = "insufficient data" if c.statistic is None else f"{c.statistic:.4g}"
            table.add_row(c.column, c.test, stat, f"{c.threshold:g}", "yes" if c.drifted else "no")
        console.print(table)

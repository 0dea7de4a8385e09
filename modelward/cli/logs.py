"""``modelward logs …``: query the inference log with SQL."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from modelward.cli.output import console, err_console, print_json
from modelward.config import load_settings
from modelward.monitoring.logquery import query_logs

app = typer.Typer(help="Query the inference log with SQL.", no_args_is_help=True)


@app.callback()
def logs() -> None:
    """Query the inference log (Parquet files under MODELWARD_HOME/inference) with SQL."""


@app.command("query")
def query(
    sql: str = typer.Argument(..., help="One SELECT over the view 'inference'."),
    limit: int = typer.Option(100, "--limit", help="Most rows to show; 0 shows all."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON records instead of a table."),
) -> None:
    """Run SQL over the inference log, e.g. SELECT model, count(*) FROM inference GROUP BY 1."""
    if limit < 0:
        raise typer.BadParameter("--limit must be 0 (all rows) or more")
    frame = query_logs(load_settings().home, sql, limit=limit + 1 if limit else None)
    for path in frame.attrs.get("skipped_files", []):
        err_console.print(
            f"[yellow]warning:[/] skipped unreadable file {escape(path)}", highlight=False
        )
    shown = frame.head(limit) if limit else frame
    more = len(frame) > len(shown)
    if json_out:
        print_json(json.loads(shown.to_json(orient="records", date_format="iso", date_unit="us")))
    else:
        table = Table(*[escape(str(c)) for c in shown.columns])
        for row in shown.itertuples(index=False):
            table.add_row(*[escape(_cell(v)) for v in row])
        console.print(table)
    if more:
        err_console.print(f"[dim]showing the first {limit} rows; raise --limit to see more[/]")


def _cell(value: Any) -> str:
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)

"""``modelward labels …``: add ground-truth labels for logged requests, list those in force."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from modelward.cli.output import client, console, err_console, print_json

app = typer.Typer(help="Labels: the ground truth for logged requests.", no_args_is_help=True)


@app.callback()
def labels() -> None:
    """Add and list labels (Parquet files under MODELWARD_HOME/labels)."""


@app.command("add")
def add(
    model: str = typer.Argument(..., help="Model name the labelled requests were sent to."),
    file: Path = typer.Option(
        ...,
        "--file",
        "-f",
        help="CSV, Parquet or JSON-lines file: request_id, label[, row][, time].",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
) -> None:
    """Store labels from FILE; prints how many were added, unknown, replaced and rejected."""
    receipt = client().add_labels(model, file)
    for path in receipt.skipped_files:
        _warn_skipped(path)
    if json_out:
        print_json(receipt.to_dict())
        return
    table = Table("added", "unknown request ids", "duplicates replaced", "rejected rows")
    table.add_row(
        str(receipt.added),
        str(receipt.unknown_request_ids),
        str(receipt.duplicates_replaced),
        str(receipt.rejected_rows),
    )
    console.print(table)
    for problem in receipt.problems:
        err_console.print(f"[yellow]rejected:[/] {escape(problem)}", highlight=False)
    console.print(f"written to {escape(str(receipt.file))}", highlight=False, soft_wrap=True)


@app.command("list")
def list_command(
    model: str = typer.Argument(..., help="Model name."),
    limit: int = typer.Option(
        20, "--limit", help="Most labels to show (newest first); 0 shows all."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON records instead of a table."),
) -> None:
    """List the labels in force for MODEL (the latest per request id and row), newest first."""
    if limit < 0:
        raise typer.BadParameter("--limit must be 0 (all) or more")
    frame = client().labels(model, limit=limit or None)
    for path in frame.attrs.get("skipped_files", []):
        _warn_skipped(path)
    if json_out:
        print_json(json.loads(frame.to_json(orient="records", date_format="iso", date_unit="us")))
        return
    columns = ("request_id", "row", "label", "label_time", "label_received_at")
    table = Table("request id", "row", "label", "label time", "received at")
    for record in frame.to_dict("records"):
        table.add_row(*[escape(_cell(record[c])) for c in columns])
    console.print(table)


def _warn_skipped(path: str) -> None:
    err_console.print(
        f"[yellow]warning:[/] skipped unreadable file {escape(path)}", highlight=False
    )


def _cell(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)

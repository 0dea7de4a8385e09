"""``modelward predict``: score a CSV, Parquet or JSON-lines file with a registered model."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from modelward.batch.predict import predict_file
from modelward.cli.output import client, console, err_console, parse_values


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("predict")(predict)


def predict(
    ref: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS."),
    input_path: Path = typer.Option(..., "--input", "-i", help="CSV, Parquet or JSON-lines file."),
    output_path: Path = typer.Option(..., "--output", "-o", help="Where to write predictions."),
    param: list[str] = typer.Option([], "--param", "-p", help="Prediction parameter NAME=VALUE."),
    keep: list[str] = typer.Option([], "--keep", help="Input column to copy into the output."),
    chunk_rows: int = typer.Option(65_536, "--chunk-rows", help="Rows per chunk (bounds memory)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Predict every row of a file; rows keep their order; output written only on success."""
    model = client().load_model(ref)
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]} rows"),
    ]
    with Progress(*columns, TimeElapsedColumn(), console=err_console, disable=quiet) as bar:
        task = bar.add_task(f"scoring with {model.version.ref}", total=1.0, rows=0)
        result = predict_file(
            model,
            input_path,
            output_path,
            params=parse_values(param, "param"),
            chunk_rows=chunk_rows,
            keep_columns=keep or None,
            on_progress=lambda rows, done: bar.update(task, completed=done, rows=rows),
        )
    model.unload()
    console.print(
        f"wrote {result.rows_out} predictions for {result.rows_in} rows to {result.output}",
        highlight=False,
    )

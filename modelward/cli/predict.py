"""``modelward predict``: score a CSV, Parquet or JSON-lines file with a registered model."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from modelward.batch.predict import predict_file
from modelward.cli.output import client, console, err_console, parse_values


class OnError(StrEnum):
    """What to do with rows that cannot be scored."""

    fail = "fail"
    skip = "skip"


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
    on_error: OnError = typer.Option(
        OnError.fail,
        "--on-error",
        help="fail: stop at the first bad row; skip: leave bad rows out and report them.",
    ),
    skipped: Path | None = typer.Option(
        None, "--skipped", help="Report of skipped rows (default: OUTPUT.skipped.jsonl)."
    ),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, help="Processes scoring chunks in parallel."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Predict every row of a file; rows keep their order; output written only on success."""
    model = client().load_model(ref)
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]} rows"),
    ]
    try:
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
                on_error=on_error.value,
                skipped_path=skipped,
                workers=workers,
            )
    finally:
        model.unload()
    console.print(
        f"wrote {result.rows_out} predictions for {result.rows_in} rows to {result.output}",
        highlight=False,
        soft_wrap=True,  # never break the paths across lines
    )
    if result.skipped_report is not None:
        console.print(
            f"skipped {result.rows_skipped} row{'' if result.rows_skipped == 1 else 's'}; "
            f"reasons in {result.skipped_report}",
            highlight=False,
            soft_wrap=True,
        )

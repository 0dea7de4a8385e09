"""``modelward card REF``: the model card, as Markdown or self-contained HTML; ``--set`` edits
its narrative fields."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

import typer
from rich.markup import escape

from modelward.batch.files import AtomicFile
from modelward.cli.output import client, console, parse_pairs
from modelward.errors import InvalidInputError
from modelward.governance.card_render import FORMATS
from modelward.governance.cards import Segments


def register(app: typer.Typer) -> None:
    """Add the ``card`` command."""
    app.command("card")(card)


def card(
    ref: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, html or json."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the card to this file."),
    segments: str | None = typer.Option(
        None, "--segments", help="Column to measure the model per value of (needs --data)."
    ),
    data: Path | None = typer.Option(None, "--data", help="Labelled data for --segments."),
    label_column: str | None = typer.Option(
        None, "--label-column", help="The label column of --data."
    ),
    set_fields: list[str] = typer.Option(
        [], "--set", help="Set a narrative field FIELD=TEXT, e.g. intended_use=… (repeatable)."
    ),
    unset_fields: list[str] = typer.Option(
        [], "--unset", help="Clear a narrative field (repeatable)."
    ),
) -> None:
    """Print or write the model card of a version; with --set/--unset, edit the model's card."""
    with closing(client()) as mw:
        if set_fields or unset_fields:
            changes: dict[str, str | None] = dict(parse_pairs(set_fields, "set"))
            changes.update(dict.fromkeys(unset_fields))
            model = mw.update_card(ref, **changes)
            console.print(
                f"card of {escape(model.name)} updated: {escape(', '.join(sorted(changes)))}",
                highlight=False,
            )
            return
        if fmt not in FORMATS:
            raise InvalidInputError(f"unknown card format {fmt!r}", hint=f"use one of {FORMATS}")
        wanted = _segments(segments, data, label_column)
        text = mw.model_card(ref, format=fmt, segments=wanted)
    if out is None:
        sys.stdout.write(text)
        return
    with AtomicFile(out) as fh:
        fh.write(text.encode("utf-8"))
    console.print(f"wrote {escape(str(out))}", highlight=False)


def _segments(column: str | None, data: Path | None, label: str | None) -> Segments | None:
    if column is None and data is None:
        return None
    if column is None or data is None or label is None:
        raise InvalidInputError(
            "per-segment metrics need --segments, --data and --label-column together",
            hint="e.g. --segments region --data holdout.csv --label-column y",
        )
    return Segments(column=column, data=data, label_column=label)

"""``modelward demo``: the end-to-end scenario on bundled data."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("demo")(demo)


def demo() -> None:
    """Train, register, alias, load and score demo models (offline, under a minute)."""
    from modelward.demo.scenario import run

    run()

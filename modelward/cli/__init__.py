"""The ``modelward`` command line (Typer + Rich); exit codes are documented in docs/cli.md."""

from __future__ import annotations

import sys
import traceback

import typer
from rich.markup import escape

from modelward.cli import (
    admin,
    audit,
    card,
    demo,
    drift,
    governance,
    labels,
    lineage,
    logs,
    models,
    monitor,
    monitor_views,
    predict,
    serve,
    server,
    users,
    webhooks,
)
from modelward.cli.output import err_console
from modelward.config import load_settings
from modelward.errors import EXIT_INTERNAL, ModelwardError

app = typer.Typer(
    name="modelward",
    help="ModelOps in one install: register, version and load any model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
admin.register(app)
app.add_typer(models.app, name="models")
app.add_typer(logs.app, name="logs")
app.add_typer(labels.app, name="labels")
app.add_typer(webhooks.app, name="webhooks")
monitor_views.register(monitor.app)
app.add_typer(monitor.app, name="monitor")
predict.register(app)
serve.register(app)
demo.register(app)
app.add_typer(audit.app, name="audit")
lineage.register(app)
card.register(app)
server.register(app)
users.register(app)
governance.register(app)
drift.register(app)


def main() -> None:
    """Entry point: run the app, turning errors into one clear message and an exit code."""
    try:
        app()
    except ModelwardError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True
        )
        if exc.hint:
            err_console.print(f"[dim]hint:[/] {escape(exc.hint)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, show the traceback only when asked
        err_console.print(f"[bold red]internal error:[/] {escape(repr(exc))}", highlight=False)
        if load_settings().debug:
            traceback.print_exc()
        else:
            err_console.print("[dim]hint:[/] set MODELWARD_DEBUG=1 for the traceback and report it")
        sys.exit(EXIT_INTERNAL)

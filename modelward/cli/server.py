"""``modelward server``: the control-plane REST API and the embedded monitor scheduler."""

from __future__ import annotations

import ipaddress

import typer

from modelward.cli.output import err_console


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("server")(server)


def server(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback by default)."
    ),
    port: int = typer.Option(8000, "--port", "-p", help="Port to listen on."),
    scheduler_interval: float = typer.Option(
        30.0,
        "--scheduler-interval",
        help="Seconds between runs of the embedded scheduler (due monitors, webhook "
        "deliveries); 0 turns it off.",
        min=0,
    ),
) -> None:
    """Serve the control-plane API under /api/v1 until SIGTERM/SIGINT (needs `modelward init`);
    an embedded scheduler runs due monitors and delivers webhooks meanwhile."""
    from modelward.api.server import build, serve

    app = build(scheduler_interval=scheduler_interval or None)  # refused when there are no users
    if not _loopback(host):
        err_console.print(
            f"[yellow]warning:[/] listening on {host}: tokens travel in clear text unless a "
            "TLS-terminating proxy is in front",
            highlight=False,
        )
    err_console.print(
        f"control plane on http://{host}:{port}/api/v1 (Ctrl-C to stop)", highlight=False
    )
    serve(app, host, port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

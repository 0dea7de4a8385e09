"""``modelward users …`` and ``modelward tokens …``: who may call the control-plane API.

These commands work on the database directly, as the OS user (recorded as the actor): whoever
can write the database is trusted. Tokens guard the API (``modelward server``).
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from modelward.cli.output import client, console, err_console, print_json
from modelward.governance.auth import ROLES
from modelward.store.tables import utcnow

users_app = typer.Typer(
    help="Users of the control-plane API and their roles.", no_args_is_help=True
)
tokens_app = typer.Typer(
    help="API tokens: create (shown once), list, revoke.", no_args_is_help=True
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def register(app: typer.Typer) -> None:
    """Add the ``users`` and ``tokens`` groups to ``app``."""
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


@users_app.command("create")
def create_user(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", "-r", help=f"One of: {', '.join(ROLES)}."),
) -> None:
    """Create a user with a role (no token yet: see `modelward tokens create`)."""
    user = client().create_user(name, role)
    console.print(f"created user {user.name} (role {user.role})", highlight=False)
    err_console.print(f"give it a token with: modelward tokens create {user.name}", highlight=False)


@users_app.command("list")
def list_users(json_out: bool = JSON_OPTION) -> None:
    """List users, their roles and whether they are disabled."""
    found = client().list_users()
    if json_out:
        print_json([u.to_dict() for u in found])
        return
    table = Table("name", "role", "status", "created (UTC)")
    for u in found:
        status = "[red]disabled[/]" if u.disabled else "enabled"
        table.add_row(u.name, u.role, status, _when(u.created_at))
    console.print(table)


@users_app.command("disable")
def disable_user(name: str = typer.Argument(..., help="User name.")) -> None:
    """Disable a user: its tokens stop working at once (refused for the last enabled admin)."""
    client().disable_user(name)
    console.print(f"disabled user {name}", highlight=False)


@users_app.command("enable")
def enable_user(name: str = typer.Argument(..., help="User name.")) -> None:
    """Enable a disabled user again."""
    client().enable_user(name)
    console.print(f"enabled user {name}", highlight=False)


@tokens_app.command("create")
def create_token(
    name: str = typer.Argument(..., help="User the token is for."),
    expires_days: int | None = typer.Option(
        None, "--expires-days", help="Days until it expires (default: never)."
    ),
    description: str | None = typer.Option(
        None, "--description", "-d", help="What the token is for."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Create an API token and print it, once: only its hash is kept."""
    record, secret = client().create_token(name, expires_days=expires_days, description=description)
    if json_out:
        print_json({**record.to_dict(), "token": secret})
        return
    expiry = f"expires {_when(record.expires_at)} UTC" if record.expires_at else "never expires"
    err_console.print(
        f"token {record.prefix} for {name} ({expiry}); it is shown once, store it now:",
        highlight=False,
    )
    console.print(secret, highlight=False, soft_wrap=True)


@tokens_app.command("list")
def list_tokens(
    name: str | None = typer.Argument(None, help="Only this user's tokens."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List tokens: prefix, user, created, expires, status, last used (never the token)."""
    found = client().list_tokens(name)
    if json_out:
        print_json([t.to_dict() for t in found])
        return
    now = utcnow()
    table = Table("prefix", "user", "created", "expires", "status", "last used", "description")
    for t in found:
        table.add_row(
            t.prefix,
            t.user,
            _when(t.created_at),
            _when(t.expires_at),
            t.status(now),
            _when(t.last_used_at),
            t.description or "",
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(prefix: str = typer.Argument(..., help="Token prefix, e.g. mw_1a2b3c4d.")) -> None:
    """Revoke a token at once and for good."""
    token = client().revoke_token(prefix)
    console.print(f"revoked {token.prefix} of {token.user}", highlight=False)


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "-"

"""``modelward init``, ``doctor`` and ``db …``: set-up and health of an installation."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from modelward.artifacts import open_artifact_store
from modelward.cli.output import client, console, print_json
from modelward.config import load_settings
from modelward.errors import EXIT_UNAVAILABLE, ModelwardError
from modelward.governance import users
from modelward.runtimes.flavors import available_flavors, broken_flavors
from modelward.store import open_store
from modelward.store.engine import safe_url

db_app = typer.Typer(help="Database schema: migrations.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add these commands to ``app``."""
    app.command("init")(init)
    app.command("doctor")(doctor)
    app.add_typer(db_app, name="db")


def init(
    admin: str = typer.Option(
        "admin", "--admin", help="Name of the first admin, created when there is no user yet."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create MODELWARD_HOME, the database (migrated), the artifact root and the first admin."""
    mw = client()
    described = mw.registry.store.describe()
    result: dict[str, Any] = {
        "home": str(mw.settings.home),
        "database": described["url"],
        "revision": described["revision"],
        "artifact_root": mw.settings.artifact_root,
    }
    created = users.create_first_admin(
        users.auth_store(mw.registry.store), admin, actor=mw.settings.actor
    )
    if json_out:
        admin_info = {"name": created[0].name, "token": created[1]} if created else None
        print_json({**result, "admin": admin_info})
        return
    for key, value in result.items():
        console.print(f"[bold]{key:14}[/] {value}", highlight=False)
    if created:
        console.print(
            f"created user [bold]{created[0].name}[/] (role admin). Its API token is shown "
            "once, store it now:",
            highlight=False,
        )
        console.print(created[1], highlight=False, soft_wrap=True)
    else:
        console.print("users exist already: no admin created (see `modelward users list`)")
    console.print("[green]ready[/]")


def doctor(
    json_out: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check settings, database, migrations, artifact root and flavors; exit 7 if one fails."""
    settings = load_settings()
    checks: list[dict[str, Any]] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": ok, "detail": detail})

    check("settings", True, f"home={settings.home}")
    try:
        settings.ensure_home()
        check("home", True, f"{settings.home} is writable")
    except ModelwardError as exc:
        check("home", False, str(exc))
    try:
        store = open_store(settings.database_url)  # like every command: migrate on first use
        info = store.describe()
        store.close()
        check("database", True, f"{info['url']} reachable ({info['backend']})")
        check(
            "migrations",
            info["revision"] == info["head"],
            f"at {info['revision']}, head {info['head']}",
        )
    except Exception as exc:
        check("database", False, f"{safe_url(settings.database_url)}: {_one_line(exc)}")
    check(*_artifact_check(settings.artifact_root))
    flavors = sorted(available_flavors())
    broken = broken_flavors()
    check(
        "flavors",
        not broken,
        ", ".join(flavors) + "".join(f"; BROKEN {k}: {v}" for k, v in broken.items()),
    )
    failed = [c for c in checks if not c["ok"]]
    if json_out:
        print_json({"ok": not failed, "checks": checks})
    else:
        table = Table("check", "", "detail")
        for c in checks:
            table.add_row(c["check"], "[green]ok[/]" if c["ok"] else "[red]FAIL[/]", c["detail"])
        console.print(table)
    if failed:
        raise typer.Exit(EXIT_UNAVAILABLE)


def _artifact_check(root: str) -> tuple[str, bool, str]:
    try:
        store = open_artifact_store(root)
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / "probe"
            probe.write_bytes(b"modelward doctor probe")
            blob = store.put_file(probe)
            with store.open_verified(blob.digest) as fh:
                fh.read()
            if blob.created:
                store.delete(blob.digest)
        return "artifacts", True, f"{root} writable and readable"
    except Exception as exc:
        return "artifacts", False, f"{root}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations (also done automatically on start)."""
    settings = load_settings()
    settings.ensure_home()
    store = open_store(settings.database_url)
    info = store.describe()
    store.close()
    console.print(f"database {info['url']} is at revision {info['revision']} (head {info['head']})")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database without changing it."""
    settings = load_settings()
    store = open_store(settings.database_url, upgrade=False)
    info = store.describe()
    store.close()
    state = (
        "up to date" if info["revision"] == info["head"] else "behind: run `modelward db upgrade`"
    )
    console.print(f"revision {info['revision']} (head {info['head']}): {state}")

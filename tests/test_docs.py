"""The docs mention every CLI command, setting, error code, exit code and flavor (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from modelward import errors
from modelward.cli import app
from modelward.config import SETTINGS
from modelward.runtimes.flavors import available_flavors

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"


def _commands(group: object, prefix: str = "modelward") -> list[str]:
    out = []
    if hasattr(group, "commands"):  # a group (Typer ships its own Click classes)
        for name, cmd in group.commands.items():
            out.append(f"{prefix} {name}")
            out.extend(_commands(cmd, f"{prefix} {name}"))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_there_are_commands_to_check() -> None:
    assert "modelward models register" in COMMANDS and "modelward db upgrade" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in (DOCS / "cli.md").read_text(), (
        f"docs/cli.md does not describe {command}"
    )


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_every_setting_is_documented(setting: str) -> None:
    assert f"`{setting}`" in (DOCS / "settings.md").read_text()


@pytest.mark.parametrize("cls", errors.all_error_classes(), ids=lambda c: c.code)
def test_every_error_code_is_documented(cls: type[errors.ModelwardError]) -> None:
    text = (DOCS / "errors.md").read_text()
    assert f"`{cls.code}`" in text, f"docs/errors.md does not explain {cls.code}"


def test_every_exit_code_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    for code in codes:
        assert f"| {code} |" in text


@pytest.mark.parametrize("flavor", sorted(available_flavors()))
def test_every_flavor_is_documented(flavor: str) -> None:
    assert f"`{flavor}`" in (DOCS / "flavors.md").read_text()


def test_readme_starts_with_the_two_commands() -> None:
    head = README.read_text()[:1500]
    assert "make demo" in head and "make test" in head

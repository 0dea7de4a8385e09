"""Problem lists: how a decision table reports everything that is wrong with it at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How many problems of one kind a message shows before it only counts the rest.
SHOW_PROBLEMS = 10


def problem_list(problems: list[str], *, total: int | None = None) -> str:
    """Problems as an indented bullet list: the first few shown, the rest (of ``total``) counted."""
    total = len(problems) if total is None else total
    lines = [f"\n  - {p}" for p in problems[:SHOW_PROBLEMS]]
    if total > SHOW_PROBLEMS:
        lines.append(f"\n  - … and {total - SHOW_PROBLEMS} more")
    return "".join(lines)


def unknown_keys(
    data: Mapping[str, Any], allowed: tuple[str, ...], where: str, out: list[str]
) -> None:
    """Append a problem for every key of ``data`` that is not ``allowed`` (typos must not pass)."""
    for key in data:
        if key not in allowed:
            out.append(f"{where} has an unknown key {key!r}; allowed keys: {', '.join(allowed)}")

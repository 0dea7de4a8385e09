"""Shared CLI helpers: consoles, JSON output, key=value options, the client."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console

from modelward.client import Client
from modelward.errors import InvalidInputError
from modelward.remote import connect

console = Console()
err_console = Console(stderr=True)


def client() -> Client:
    """A client for the settings in the environment: the control-plane server's API when
    ``MODELWARD_TRACKING_URI`` is http(s) (remote mode), else the embedded store."""
    return connect()


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def parse_pairs(pairs: Iterable[str] | None, what: str) -> dict[str, str]:
    """``["k=v", …]`` as a dict; a pair without ``=`` is refused, naming the option."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(
                f"--{what} {pair!r} is not KEY=VALUE", hint=f"write --{what} name=value"
            )
        out[key.strip()] = value.strip()
    return out


def parse_values(pairs: Iterable[str] | None, what: str) -> dict[str, Any]:
    """Like :func:`parse_pairs`, but values are JSON when they parse as JSON (numbers, lists)."""
    out: dict[str, Any] = {}
    for key, value in parse_pairs(pairs, what).items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out

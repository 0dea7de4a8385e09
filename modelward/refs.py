"""Model references: ``NAME``, ``NAME/VERSION``, ``NAME@ALIAS``, each with or without ``models:/``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelward.errors import InvalidNameError, InvalidReferenceError

PREFIX = "models:/"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
RESERVED_ALIASES = frozenset({"latest"})


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name, else raise :class:`InvalidNameError`."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidNameError(
            f"invalid model name {name!r}",
            hint="use 1-128 letters, digits, '_', '-' or '.', starting with a letter or digit, "
            "and no '..'",
        )
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias, else raise :class:`InvalidNameError`."""
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidNameError(
            f"invalid alias {alias!r}",
            hint="use 1-64 letters, digits, '_' or '-', starting with a letter",
        )
    if alias.lower() in RESERVED_ALIASES:
        raise InvalidNameError(f"alias {alias!r} is reserved", hint="choose another alias name")
    return alias


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference; at most one of ``version`` and ``alias`` is set."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}/{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name

    @property
    def uri(self) -> str:
        """The reference in ``models:/`` form."""
        return PREFIX + str(self)

    @property
    def is_latest(self) -> bool:
        return self.version is None and self.alias is None


def parse_ref(text: str) -> ModelRef:
    """Parse a model reference; the one parser every face uses."""
    if not isinstance(text, str):
        raise InvalidReferenceError(
            f"a model reference must be a string, not {type(text).__name__}"
        )
    raw = text.strip()
    body = raw[len(PREFIX) :] if raw.startswith(PREFIX) else raw
    usage = "write NAME, NAME/VERSION or NAME@ALIAS, optionally prefixed by models:/"
    if not body:
        raise InvalidReferenceError(f"empty model reference {text!r}", hint=usage)
    if "@" in body:
        name, _, alias = body.partition("@")
        if "/" in alias or "@" in alias:
            raise InvalidReferenceError(f"invalid model reference {text!r}", hint=usage)
        return ModelRef(_checked_name(name, text, usage), alias=_checked_alias(alias, text))
    if "/" in body:
        name, _, version = body.partition("/")
        if version.lower() == "latest":
            return ModelRef(_checked_name(name, text, usage))
        if not version.isdigit() or int(version) < 1 or not version.isascii():
            raise InvalidReferenceError(
                f"invalid version {version!r} in model reference {text!r}",
                hint="a version is a whole number from 1, or 'latest'",
            )
        return ModelRef(_checked_name(name, text, usage), version=int(version))
    return ModelRef(_checked_name(body, text, usage))


def _checked_name(name: str, text: str, usage: str) -> str:
    try:
        return check_name(name)
    except InvalidNameError as exc:
        raise InvalidReferenceError(
            f"invalid model name {name!r} in reference {text!r}", hint=usage
        ) from exc


def _checked_alias(alias: str, text: str) -> str:
    try:
        return check_alias(alias)
    except InvalidNameError as exc:
        raise InvalidReferenceError(
            f"invalid alias {alias!r} in reference {text!r}", hint=exc.hint
        ) from exc

"""Flavor discovery through the ``modelward.flavors`` entry-point group (built-ins included)."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from modelward.errors import InvalidModelError, ModelwardError, UnknownFlavorError
from modelward.runtimes.base import Flavor

GROUP = "modelward.flavors"


@lru_cache(maxsize=1)
def _discover() -> tuple[dict[str, Flavor], dict[str, str]]:
    found: list[Flavor] = []
    broken: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # one broken plug-in must not take the others down
            broken[ep.name] = f"{ep.value}: {exc!r}"
            continue
        if not (isinstance(cls, type) and issubclass(cls, Flavor)) or cls.name != ep.name:
            broken[ep.name] = f"{ep.value} is not a Flavor subclass named {ep.name!r}"
            continue
        found.append(cls())
    found.sort(key=lambda f: (f.priority, f.name))
    return {f.name: f for f in found}, broken


def available_flavors() -> dict[str, Flavor]:
    """Every installed flavor by name, in detection order (specific before generic)."""
    return _discover()[0]


def broken_flavors() -> dict[str, str]:
    """Entry points that failed to load, with the reason (shown by ``modelward doctor``)."""
    return dict(_discover()[1])


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``; the error lists the known ones."""
    flavors, broken = _discover()
    if name in broken:
        raise ModelwardError(
            f"the {name} flavor is installed but failed to load: {broken[name]}",
            hint="reinstall modelward or the package that provides this flavor",
        )
    try:
        return flavors[name]
    except KeyError:
        raise UnknownFlavorError(
            f"unknown flavor {name!r}",
            hint=f"known flavors: {', '.join(sorted(flavors))}",
        ) from None


def detect_flavor(obj: Any) -> Flavor:
    """The first flavor that recognises the in-memory object ``obj``."""
    for flavor in available_flavors().values():
        if flavor.detect(obj):
            return flavor
    raise InvalidModelError(
        f"no flavor knows how to save a {type(obj).__module__}.{type(obj).__qualname__} object",
        hint=f"pass flavor= explicitly; known flavors: {', '.join(sorted(available_flavors()))}",
    )


def sniff_flavor(path: Path) -> Flavor | None:
    """The first flavor that recognises the file or folder at ``path``, if any."""
    for flavor in available_flavors().values():
        if flavor.sniff(path):
            return flavor
    return None

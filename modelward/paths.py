"""Canonicalisation of user-supplied names, paths and URIs.

Nothing a user typed, or a model file declared, is joined into a filesystem path without going
through here. Refused: ``..`` components, absolute paths, percent-encoded tricks (``%2e%2e``),
URL fragments and queries, NUL bytes, backslashes, and symlinks that lead out of the root — the
family of MLflow's CVE-2023-1177.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from modelward.errors import UnsafePathError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(value: str, why: str) -> UnsafePathError:
    return UnsafePathError(
        f"refused path {value!r}: {why}",
        hint="use a plain relative path inside the model folder, without '..', '%', '#' or '?'",
    )


def check_relative(name: str) -> PurePosixPath:
    """Lexically check a relative path (no resolution); return it as a POSIX path."""
    if not isinstance(name, str) or not name:
        raise _refuse(str(name), "it is empty")
    if "\x00" in name:
        raise _refuse(name, "it contains a NUL byte")
    if "%" in name and unquote(name) != name:
        raise _refuse(name, "it is percent-encoded")
    if "#" in name or "?" in name:
        raise _refuse(name, "it carries a URL fragment or query")
    if "\\" in name:
        raise _refuse(name, "it contains a backslash")
    if _SCHEME.match(name) or name.startswith("file:"):
        raise _refuse(name, "it is a URI, not a relative path")
    if name.startswith(("/", "~")) or _DRIVE.match(name):
        raise _refuse(name, "it is absolute")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise _refuse(name, "it climbs out of its folder with '..'")
    return path


def safe_join(root: Path, name: str) -> Path:
    """``root / name`` after lexical checks, resolved, and proven to stay inside ``root``."""
    relative = check_relative(name)
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise _refuse(name, f"it leads out of {base} (through a symlink)")
    return target


def ensure_within(root: Path, path: Path) -> Path:
    """Resolve ``path`` (following symlinks) and refuse it unless it lies inside ``root``."""
    base = root.resolve()
    target = path.resolve()
    if not target.is_relative_to(base):
        raise _refuse(str(path), f"it resolves to {target}, outside {base}")
    return target


def canonical_location(location: str) -> str:
    """A user-given data or artifact location as a canonical string.

    Local paths become absolute resolved paths; URLs keep their scheme and must not carry
    fragments, queries, percent-encoded dots or ``..`` components.
    """
    if not isinstance(location, str) or not location.strip():
        raise _refuse(str(location), "it is empty")
    if "\x00" in location:
        raise _refuse(location, "it contains a NUL byte")
    if location.startswith("file://"):
        location = urlsplit(location).path
        _check_url_path(location, location)
    if not _SCHEME.match(location):
        return str(Path(location).expanduser().resolve())
    parts = urlsplit(location)
    if parts.fragment or parts.query or "#" in location:
        raise _refuse(location, "it carries a URL fragment or query")
    if not parts.netloc:
        raise _refuse(location, "it has no bucket or host")
    _check_url_path(location, parts.path)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _check_url_path(location: str, path: str) -> None:
    if "%" in path and unquote(path) != path:
        raise _refuse(location, "it is percent-encoded")
    if any(part == ".." for part in PurePosixPath(path).parts):
        raise _refuse(location, "it climbs out of its folder with '..'")

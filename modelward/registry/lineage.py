"""Lineage recorded with every version: data fingerprints, code commit, environment."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.artifacts import file_digest
from modelward.errors import InvalidDataError
from modelward.paths import canonical_location

_ALWAYS = ("modelward", "numpy", "pandas")


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 over a frame's column names, dtypes and values (row order matters)."""
    sha = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        sha.update(f"{name}\x1f{dtype}\x1e".encode())
    try:
        hashed = pd.util.hash_pandas_object(frame, index=False)
    except TypeError as exc:  # lists or dicts in cells
        raise InvalidDataError(
            f"cannot fingerprint the data: {exc}",
            hint="datasets must be tables of plain values (numbers, text, booleans, times)",
        ) from exc
    sha.update(hashed.to_numpy().tobytes())
    return sha.hexdigest()


def dataset_record(data: Any, *, role: str) -> dict[str, Any]:
    """Fingerprint and location of a dataset given as a path or a frame."""
    if isinstance(data, str | Path):
        location = canonical_location(str(data))
        record: dict[str, Any] = {"role": role, "location": location}
        if "://" not in location:
            digest, size = file_digest(Path(location))
            record.update(fingerprint=f"sha256:{digest}", bytes=size)
        return record
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    return {
        "role": role,
        "location": "in-memory",
        "fingerprint": f"frame-sha256:{frame_fingerprint(frame)}",
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
    }


def git_state(cwd: Path | None = None) -> dict[str, Any] | None:
    """Commit and dirtiness of the git work tree around ``cwd``, if there is one."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    top, _, commit = head.stdout.strip().partition("\n")
    return {"commit": commit.strip(), "dirty": bool(status.stdout.strip()), "repository": top}


@lru_cache(maxsize=64)
def _versions(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found = []
    for name in dict.fromkeys((*_ALWAYS, *packages)):
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(found)


def environment(packages: tuple[str, ...]) -> dict[str, Any]:
    """Python, platform and the versions of the packages that matter for this flavor."""
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(terse=True),
        "packages": dict(_versions(packages)),
    }

"""Secret keys kept in files outside the database (created 0600, random, on first use)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from modelward.errors import ConfigurationError

KEY_BYTES = 32


def load_or_create(path: Path, *, setting: str) -> bytes:
    """The key in ``path``; a new random one is written there (mode 0600) when it is missing."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES))
        key = path.read_bytes()
    except FileExistsError:  # another process created it first
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read or create the key {path}: {exc.strerror}",
            hint=f"set {setting} to a readable file of {KEY_BYTES} random bytes",
        ) from exc
    if len(key) < 16:
        raise ConfigurationError(
            f"the key {path} is too short ({len(key)} bytes)", hint=f"see {setting}"
        )
    return key

"""PII in the inference log: columns flagged ``pii`` are stored as keyed HMAC hashes, or dropped.

Hashes keep what monitoring needs (the same value hashes the same, so counts, joins and unseen
categories still work) without keeping the value. The key lives outside the database: a file
under ``MODELWARD_HOME/keys/`` (or ``MODELWARD_PII_KEY_FILE``), created with mode 0600 on first
use; whoever holds the database alone cannot reverse or recompute the hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from modelward.config import Settings
from modelward.errors import ConfigurationError, InvalidInputError
from modelward.governance.keys import load_or_create
from modelward.signatures import Signature

MODES = ("hash", "drop", "keep")
ENV_KEY_FILE = "MODELWARD_PII_KEY_FILE"
ENV_MODE = "MODELWARD_PII_MODE"


def pii_mode(policy_mode: str = "hash", environ: Mapping[str, str] | None = None) -> str:
    """How PII columns are kept: ``MODELWARD_PII_MODE`` when set (an operator's override for
    every model), else ``policy_mode`` (the ``privacy.pii`` of the model's risk-tier policy)."""
    mode = (os.environ if environ is None else environ).get(ENV_MODE) or policy_mode
    if mode not in MODES:
        raise ConfigurationError(
            f"{ENV_MODE}={mode!r} is not a PII mode", hint=f"use one of {MODES}"
        )
    return mode


def key_path(settings: Settings) -> Path:
    """Where the HMAC key is kept."""
    given = os.environ.get(ENV_KEY_FILE)
    return Path(given).expanduser().resolve() if given else settings.home / "keys" / "pii.key"


def load_key(settings: Settings) -> bytes:
    """The HMAC key, created (0600, random) on first use."""
    return load_or_create(key_path(settings), setting=ENV_KEY_FILE)


def hash_value(key: bytes, value: object) -> str | None:
    """The keyed hash of one value (``None`` stays ``None``)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()


def protect(
    columns: Mapping[str, np.ndarray], signature: Signature | None, mode: str, key: bytes | None
) -> dict[str, np.ndarray]:
    """``columns`` with every PII column of ``signature`` hashed, dropped or (``keep``) as is."""
    if signature is None or mode == "keep":
        return dict(columns)
    pii = set(signature.pii_columns)
    if not pii:
        return dict(columns)
    if mode == "hash" and key is None:
        raise InvalidInputError("hashing PII needs a key")
    out: dict[str, np.ndarray] = {}
    for name, array in columns.items():
        if name not in pii:
            out[name] = array
        elif mode == "hash":
            assert key is not None
            hashed = np.empty(len(array), dtype=object)
            hashed[:] = [hash_value(key, v) for v in array.tolist()]
            out[name] = hashed
    return out

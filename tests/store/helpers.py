"""Small builders for store tests."""

from __future__ import annotations

import hashlib

from modelward.signatures import ColumnSpec, Signature
from modelward.store.entities import NewVersion


def new_version(seed: str = "x", **changes: object) -> NewVersion:
    """A plausible version record with a digest derived from ``seed``."""
    fields: dict[str, object] = {
        "digest": hashlib.sha256(seed.encode()).hexdigest(),
        "size_bytes": 10,
        "flavor": "sklearn",
        "flavor_config": {"file": "model.skops"},
        "signature": Signature((ColumnSpec("a", "double"),), (ColumnSpec("prediction", "long"),)),
        "input_example": [{"a": 1.0}],
        "metrics": {"auc": 0.9},
        "params": {"C": 1.0},
        "tags": {"team": "risk"},
        "lineage": {"git": None},
        "description": "d",
    }
    fields.update(changes)
    return NewVersion(**fields)  # type: ignore[arg-type]

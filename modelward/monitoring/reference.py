"""Reference profiles: what a version's training data (and its predictions on it) looked like.

Built at registration from the training data — inputs over every row, in one streaming pass,
and outputs from scoring up to :data:`OUTPUT_ROWS` of it — and stored as one JSON blob in the
artifact store; the version's lineage records its digest (``lineage["reference_profile"]``).
Monitoring compares every window of live traffic against it, without the training data.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from modelward.artifacts import ArtifactStore
from modelward.monitoring.profiles import DatasetProfile, profile_batches, profile_table

OUTPUT_ROWS = 100_000
FORMAT = "modelward.reference-profile/1"


@dataclass(frozen=True)
class ReferenceProfile:
    """A version's reference: inputs and (when the model could score the data) outputs."""

    inputs: DatasetProfile
    outputs: DatasetProfile | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "inputs": self.inputs.to_dict(),
            "outputs": self.outputs.to_dict() if self.outputs is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        outputs = data.get("outputs")
        return cls(
            DatasetProfile.from_dict(data["inputs"]),
            DatasetProfile.from_dict(outputs) if outputs else None,
        )


def profile_inputs(
    batches: Iterable[pa.RecordBatch], columns: list[str] | None, pii: Iterable[str]
) -> DatasetProfile:
    """Profile the training data's input columns (all of them when ``columns`` is None)."""
    wanted = set(columns) if columns is not None else None

    def selected() -> Iterable[pa.RecordBatch]:
        for batch in batches:
            if wanted is None:
                yield batch
            else:
                keep = [n for n in batch.schema.names if n in wanted]
                yield batch.select(keep)

    return profile_batches(selected(), pii=pii)


def profile_outputs(outputs: pd.DataFrame, pii: Iterable[str]) -> DatasetProfile:
    """Profile the model's outputs on (a sample of) its training data."""
    return profile_table(outputs.reset_index(drop=True), pii=pii)


def store_reference(artifacts: ArtifactStore, reference: ReferenceProfile) -> tuple[str, bool]:
    """Store the reference as a JSON blob; returns its digest and whether this call created it."""
    with tempfile.TemporaryDirectory(prefix="reference-") as tmp:
        path = Path(tmp) / "reference.json"
        path.write_text(json.dumps(reference.to_dict(), sort_keys=True), encoding="utf-8")
        blob = artifacts.put_file(path)
    return blob.digest, blob.created


def load_reference(artifacts: ArtifactStore, lineage: dict[str, Any]) -> ReferenceProfile | None:
    """The reference profile a version's lineage names (``None`` when it has none)."""
    record = (lineage or {}).get("reference_profile")
    if not record:
        return None
    with artifacts.open_verified(record["digest"]) as fh:
        return ReferenceProfile.from_dict(json.load(fh))

"""Registration in two halves: build a version's package here, then record it in a registry.

:func:`build_package` does everything that needs the model itself — save it, choose and probe
its signature, profile the training data, pack the folder into the deterministic tar, gather
lineage. :func:`record_package` does what needs the stores — put the blobs, create the version,
and discard the blobs it created when that fails. The embedded registry runs both in one
process; a remote client builds here and the control-plane server records (it never loads an
uploaded model, which would run the uploader's code in the server).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.artifacts import ArtifactStore
from modelward.artifacts.bundle import pack
from modelward.config import Settings
from modelward.errors import InvalidInputError, InvalidModelError, ModelwardError
from modelward.monitoring.reference import ReferenceProfile, store_reference
from modelward.refs import check_name
from modelward.registry.lineage import dataset_record, environment, git_state
from modelward.registry.prepare import (
    check_json,
    check_metrics,
    choose_signature,
    example_records,
    sample_frame,
    save_model,
)
from modelward.registry.reference import build_reference
from modelward.runtimes.base import Flavor, SavedModel, SaveOptions
from modelward.runtimes.pickles import is_pickle_file
from modelward.signatures import Signature, infer_columns
from modelward.store.base import MetadataStore
from modelward.store.entities import ModelVersion, NewVersion


@dataclass(frozen=True)
class Package:
    """A model built and packed, ready to be recorded: the tar, the version's fields (all but
    its digest and size, which the recording side computes), the reference profile with the
    reason its outputs are missing (if so), and the fields of a model created on the way."""

    tar: Path
    flavor: str
    flavor_config: dict[str, Any]
    signature: Signature | None
    input_example: list[dict[str, Any]] | None
    metrics: dict[str, float]
    params: dict[str, Any]
    tags: dict[str, str]
    lineage: dict[str, Any]
    description: str | None
    reference: tuple[ReferenceProfile, str | None] | None = None
    model_fields: dict[str, Any] = field(default_factory=dict)

    def new_version(self, digest: str, size: int, lineage: dict[str, Any]) -> NewVersion:
        """The store's record of this package once its blob is ``digest`` of ``size`` bytes."""
        return NewVersion(
            digest=digest,
            size_bytes=size,
            flavor=self.flavor,
            flavor_config=self.flavor_config,
            signature=self.signature,
            input_example=self.input_example,
            metrics=self.metrics,
            params=self.params,
            tags=self.tags,
            lineage=lineage,
            description=self.description,
        )


@contextmanager
def build_package(
    settings: Settings,
    model_or_path: Any,
    name: str,
    *,
    flavor: str | None = None,
    signature: Signature | Mapping[str, Any] | None = None,
    input_example: Any = None,
    training_data: Any = None,
    metrics: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    trust_pickle: bool = False,
    risk_tier: str | None = None,
    owner: str | None = None,
    compile: str | None = None,
) -> Iterator[Package]:
    """Save, probe, profile and pack a model in a scratch folder under the cache; the package's
    tar lives until the ``with`` block ends."""
    check_name(name)
    if compile not in (None, "onnx"):
        raise InvalidInputError(f"unknown compile target {compile!r}", hint="use 'onnx'")
    checked_metrics = check_metrics(metrics)
    checked_params = check_json("params", params)
    checked_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    sample = sample_frame(input_example)
    datasets = [dataset_record(training_data, role="training")] if training_data is not None else []
    settings.ensure_home()
    with tempfile.TemporaryDirectory(dir=settings.cache_dir, prefix="register-") as tmp:
        work = Path(tmp)
        model_dir = work / "model"
        model_dir.mkdir()
        extra = {"compile": compile} if compile else {}
        options = SaveOptions(trust_pickle=trust_pickle, sample=sample, extra=extra)
        chosen, saved = save_model(model_or_path, model_dir, flavor, options)
        if compile and chosen.name != "sklearn":
            raise InvalidInputError(
                f"only scikit-learn models are compiled, not {chosen.name} models",
                hint="leave --compile out",
            )
        sig = choose_signature(signature, saved.signature, sample)
        sig, reference = probe(chosen, model_dir, saved, sig, sample, training_data)
        pack(model_dir, work / "model.tar")
        yield Package(
            tar=work / "model.tar",
            flavor=chosen.name,
            flavor_config=saved.config,
            signature=sig,
            input_example=example_records(sample),
            metrics=checked_metrics,
            params=checked_params,
            tags=checked_tags,
            lineage=lineage_of(settings, model_or_path, chosen, datasets, trust_pickle),
            description=description,
            reference=reference,
            model_fields={"description": description, "owner": owner, "risk_tier": risk_tier},
        )


def record_package(
    store: MetadataStore, artifacts: ArtifactStore, name: str, package: Package, *, actor: str
) -> ModelVersion:
    """Store the package's tar (and reference profile) and record the next version of ``name``
    as ``actor``; on any failure, the blobs this call created are removed again."""
    blob = artifacts.put_file(package.tar)
    created = [blob.digest] if blob.created else []
    try:
        lineage = dict(package.lineage)
        if package.reference is not None:
            profile, note = package.reference
            digest, made = store_reference(artifacts, profile)
            created += [digest] if made else []
            lineage["reference_profile"] = {
                "digest": digest,
                "rows": profile.inputs.rows,
                "outputs": note or "profiled",
            }
        new = package.new_version(blob.digest, blob.size, lineage)
        return store.create_version(name, new, actor=actor, create_model=package.model_fields)
    except BaseException:
        for digest in created:
            discard_blob(store, artifacts, digest)
        raise


def discard_blob(store: MetadataStore, artifacts: ArtifactStore, digest: str) -> None:
    """Remove a blob this process created, unless a version (now) uses it."""
    try:
        in_use = store.digest_in_use(digest)
    except ModelwardError:
        in_use = False  # the database is gone: the blob is ours and nobody recorded it
    if not in_use:
        artifacts.delete(digest)


def probe(
    flavor: Flavor,
    folder: Path,
    saved: SavedModel,
    signature: Signature | None,
    sample: pd.DataFrame | None,
    training_data: Any = None,
) -> tuple[Signature | None, tuple[ReferenceProfile, str | None] | None]:
    """Load what was saved and score the sample: proves it works, and names its outputs;
    with training data, also profile it (and the model's outputs on it) as the reference."""
    runtime = flavor.runtime(folder, saved.config)
    try:
        runtime.load()
        if sample is None or signature is None:
            if training_data is None:
                return signature, None
            return signature, build_reference(runtime, signature, training_data)
        frame = signature.conform(sample)
        outputs = runtime.predict(frame, {})
        if not signature.outputs:
            signature = signature.with_outputs(
                replace(c, nullable=True) for c in infer_columns(outputs)
            )
        if training_data is None:
            return signature, None
        return signature, build_reference(runtime, signature, training_data)
    except ModelwardError:
        raise
    except Exception as exc:
        raise InvalidModelError(
            f"the saved {flavor.name} model could not be loaded and scored: {exc!r}",
            hint="check the model and its input example",
        ) from exc
    finally:
        runtime.unload()


def lineage_of(
    settings: Settings,
    source: Any,
    flavor: Flavor,
    datasets: list[dict[str, Any]],
    trust_pickle: bool,
) -> dict[str, Any]:
    """Where the model came from: its source, datasets, git state and environment."""
    if isinstance(source, str | Path):
        path = Path(source).expanduser().resolve()
        origin: dict[str, Any] = {"kind": "file", "path": str(path)}
        if is_pickle_file(path):
            origin["pickle_trusted_by"] = settings.actor if trust_pickle else None
    else:
        cls = type(source)
        origin = {"kind": "object", "type": f"{cls.__module__}.{cls.__qualname__}"}
    return {
        "source": origin,
        "datasets": datasets,
        "git": git_state(),
        "environment": environment(flavor.packages),
        "parent": None,
    }

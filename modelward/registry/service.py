"""The registry service: register, resolve, load, alias, archive and delete model versions.

Faces (SDK, CLI, later the REST API) call these methods; nothing here knows about them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.artifacts import ArtifactStore
from modelward.artifacts.bundle import pack, unpack
from modelward.config import Settings
from modelward.errors import InvalidInputError, InvalidModelError, ModelwardError
from modelward.governance.lifecycle import CHAMPION, promote
from modelward.monitoring.reference import ReferenceProfile, store_reference
from modelward.refs import ModelRef, check_name, parse_ref
from modelward.registry.lineage import dataset_record, environment, git_state
from modelward.registry.loaded import LoadedModel
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
from modelward.runtimes.flavors import get_flavor
from modelward.runtimes.pickles import is_pickle_file
from modelward.signatures import Signature, infer_columns
from modelward.store.base import MetadataStore
from modelward.store.entities import AliasMove, ModelVersion, NewVersion


def as_ref(ref: str | ModelRef) -> ModelRef:
    """Parse ``ref`` unless it already is a :class:`ModelRef`."""
    return ref if isinstance(ref, ModelRef) else parse_ref(ref)


class Registry:
    """Models and versions over a metadata store and an artifact store."""

    def __init__(self, store: MetadataStore, artifacts: ArtifactStore, settings: Settings) -> None:
        self.store = store
        self.artifacts = artifacts
        self.settings = settings

    # --- registration -------------------------------------------------------------------------
    def register(
        self,
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
    ) -> ModelVersion:
        """Store the model's artifact, then record it as the next version of ``name``."""
        check_name(name)
        if compile not in (None, "onnx"):
            raise InvalidInputError(f"unknown compile target {compile!r}", hint="use 'onnx'")
        checked_metrics = check_metrics(metrics)
        checked_params = check_json("params", params)
        checked_tags = {str(k): str(v) for k, v in (tags or {}).items()}
        sample = sample_frame(input_example)
        datasets = (
            [dataset_record(training_data, role="training")] if training_data is not None else []
        )
        self.settings.ensure_home()
        with tempfile.TemporaryDirectory(dir=self.settings.cache_dir, prefix="register-") as tmp:
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
            sig, reference = self._probe(chosen, model_dir, saved, sig, sample, training_data)
            pack(model_dir, work / "model.tar")
            blob = self.artifacts.put_file(work / "model.tar")
        lineage = self._lineage(model_or_path, chosen, datasets, trust_pickle)
        created = [blob.digest] if blob.created else []
        if reference is not None:
            profile, note = reference
            digest, made = store_reference(self.artifacts, profile)
            created += [digest] if made else []
            lineage["reference_profile"] = {
                "digest": digest,
                "rows": profile.inputs.rows,
                "outputs": note or "profiled",
            }
        new = NewVersion(
            digest=blob.digest,
            size_bytes=blob.size,
            flavor=chosen.name,
            flavor_config=saved.config,
            signature=sig,
            input_example=example_records(sample),
            metrics=checked_metrics,
            params=checked_params,
            tags=checked_tags,
            lineage=lineage,
            description=description,
        )
        model_fields = {"description": description, "owner": owner, "risk_tier": risk_tier}
        try:
            return self.store.create_version(
                name, new, actor=self.settings.actor, create_model=model_fields
            )
        except BaseException:
            for digest in created:
                self._discard_blob(digest)
            raise

    def _probe(
        self,
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

    def _lineage(
        self, source: Any, flavor: Flavor, datasets: list[dict[str, Any]], trust_pickle: bool
    ) -> dict[str, Any]:
        if isinstance(source, str | Path):
            path = Path(source).expanduser().resolve()
            origin: dict[str, Any] = {"kind": "file", "path": str(path)}
            if is_pickle_file(path):
                origin["pickle_trusted_by"] = self.settings.actor if trust_pickle else None
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

    def _discard_blob(self, digest: str) -> None:
        """Remove a blob this process created, unless a version (now) uses it."""
        try:
            in_use = self.store.digest_in_use(digest)
        except ModelwardError:
            in_use = False  # the database is gone: the blob is ours and nobody recorded it
        if not in_use:
            self.artifacts.delete(digest)

    # --- reading ------------------------------------------------------------------------------
    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """The version a reference points at."""
        return self.store.resolve(as_ref(ref))

    def load(self, ref: str | ModelRef) -> LoadedModel:
        """Resolve, fetch and verify the artifact, and load its runtime."""
        version = self.resolve(ref)
        flavor = get_flavor(version.flavor)
        self.settings.ensure_home()
        workdir = Path(tempfile.mkdtemp(dir=self.settings.cache_dir, prefix="load-"))
        try:
            with self.artifacts.open_verified(version.digest) as blob:
                unpack(blob, workdir)
            runtime = flavor.runtime(workdir, version.flavor_config)
            runtime.load()
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return LoadedModel(version, runtime, workdir)

    # --- changes ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> AliasMove:
        """Point ``alias`` of model ``name`` at ``version``; ``champion`` puts the version in
        production, which its risk tier's policy must allow (docs/governance.md)."""
        if alias == CHAMPION:
            actor, home = self.settings.actor, self.settings.home
            return promote(self.store, name, version, actor=actor, home=home)
        return self.store.set_alias(name, alias, version, actor=self.settings.actor)

    def delete_alias(self, name: str, alias: str) -> AliasMove:
        """Remove an alias."""
        return self.store.delete_alias(name, alias, actor=self.settings.actor)

    def archive(self, ref: str | ModelRef, *, archived: bool = True) -> ModelVersion:
        """Hide a version from default listings (or show it again); it stays loadable."""
        parsed = as_ref(ref)
        number = self._exact_version(parsed, "archive")
        return self.store.set_archived(parsed.name, number, archived, actor=self.settings.actor)

    def delete_version(self, ref: str | ModelRef) -> ModelVersion:
        """Delete a version and, when no other version shares it, its artifact."""
        parsed = as_ref(ref)
        number = self._exact_version(parsed, "delete")
        gone = self.store.delete_version(parsed.name, number, actor=self.settings.actor)
        self._discard_blob(gone.digest)
        return gone

    def delete_model(self, name: str) -> list[ModelVersion]:
        """Delete a model with all its versions and their unshared artifacts."""
        gone = self.store.delete_model(check_name(name), actor=self.settings.actor)
        for digest in {v.digest for v in gone}:
            self._discard_blob(digest)
        return gone

    @staticmethod
    def _exact_version(ref: ModelRef, action: str) -> int:
        if ref.version is None:
            raise InvalidInputError(
                f"{action} needs an exact version, not {str(ref)!r}",
                hint=f"write {ref.name}/VERSION",
            )
        return ref.version

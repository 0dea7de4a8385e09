"""Registering a version over HTTP: a package built by the client, recorded by the server.

The client (``RemoteClient.register_model``) saves, probes, profiles and packs the model on its
own machine and uploads the tar with the version's metadata. The server checks the metadata
strictly and the tar's member names, hashes the tar itself (a digest from the client is never
trusted), and records the version acting as the caller. It never unpacks, imports or loads the
uploaded model: that would run the uploader's code inside the server.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelward.api.context import ApiContext, context
from modelward.api.model_edits import DEFAULT_TIER, check_tier_change
from modelward.api.security import requires
from modelward.api.uploads import Upload, media_type, parse_form, read_body
from modelward.errors import (
    InvalidInputError,
    ModelNotFoundError,
    UnsupportedContentTypeError,
)
from modelward.governance.users import Caller
from modelward.monitoring.reference import ReferenceProfile
from modelward.paths import check_relative
from modelward.refs import check_name
from modelward.registry.package import Package, record_package
from modelward.registry.prepare import check_json, check_metrics
from modelward.runtimes.flavors import get_flavor
from modelward.signatures import Signature
from modelward.store.entities import RISK_TIERS

router = APIRouter(tags=["versions"])
#: The largest upload (tar, metadata and reference together); the body is held in memory.
MAX_ARTIFACT_BYTES = 512 * 2**20
FORM_PARTS = ("artifact", "metadata", "reference")


class VersionMetadata(BaseModel):
    """The ``metadata`` part: the version's fields as the client's package holds them."""

    model_config = ConfigDict(extra="forbid")  # a typo in a field name is an error, not a no-op

    flavor: str = Field(description="The flavor the package was saved with.")
    flavor_config: dict[str, Any] = Field(default_factory=dict)
    signature: dict[str, Any] | None = None
    input_example: list[dict[str, Any]] | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    lineage: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    risk_tier: str | None = None
    owner: str | None = None


@router.post("/models/{name}/versions", status_code=201)
async def register_version(
    request: Request,
    name: str,
    caller: Caller = requires("models:write"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Record an uploaded package as the next version of ``name`` (created when missing)."""
    check_name(name)
    kind, header = media_type(request)
    if kind != "multipart/form-data":
        raise UnsupportedContentTypeError(
            f"a version cannot be uploaded as {kind or 'a body without a Content-Type'}",
            hint="send multipart/form-data with parts artifact, metadata and reference",
        )
    body = await read_body(request, MAX_ARTIFACT_BYTES)
    fields, files = parse_form(header, body)
    artifact = _artifact(fields, files)
    metadata = _metadata(fields.get("metadata"))
    reference = _reference(fields.get("reference"))
    return await run_in_threadpool(_record, ctx, caller, name, artifact, metadata, reference)


def _record(
    ctx: ApiContext,
    caller: Caller,
    name: str,
    artifact: Upload,
    meta: VersionMetadata,
    reference: tuple[ReferenceProfile, str | None] | None,
) -> dict[str, Any]:
    """Check the model-level rules, write the tar to a scratch file, and record it."""
    try:
        ctx.store.get_model(name)
    except ModelNotFoundError:  # a new model: a low tier needs what POST /models needs
        check_tier_change(caller, DEFAULT_TIER, meta.risk_tier)
    ctx.settings.ensure_home()
    with tempfile.TemporaryDirectory(dir=ctx.settings.cache_dir, prefix="upload-") as tmp:
        tar = Path(tmp) / "model.tar"
        tar.write_bytes(artifact.content)
        _check_tar(tar)
        package = _package(tar, meta, reference, caller)
        version = record_package(ctx.store, ctx.artifacts, name, package, actor=caller.name)
    return version.to_dict()


def _artifact(fields: dict[str, str], files: list[Upload]) -> Upload:
    unknown = sorted((set(fields) | {f.name for f in files}) - set(FORM_PARTS))
    if unknown:
        raise InvalidInputError(
            f"unknown form parts: {', '.join(unknown)}",
            hint="send the parts artifact (the tar), metadata (JSON) and reference (JSON)",
        )
    found = [f for f in files if f.name == "artifact"]
    if len(found) != 1 or "artifact" in fields or "metadata" not in fields:
        raise InvalidInputError(
            "the form needs one file part 'artifact' (the packed model) and a 'metadata' part",
            hint="use RemoteClient.register_model, which builds the form",
        )
    return found[0]


def _metadata(text: str | None) -> VersionMetadata:
    data = _json("metadata", text)
    try:
        meta = VersionMetadata.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"metadata.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise InvalidInputError(
            "invalid metadata: " + "; ".join(problems),
            hint="metadata takes " + ", ".join(VersionMetadata.model_fields),
        ) from None
    get_flavor(meta.flavor)  # an unknown flavor is refused now, not when someone loads it
    if meta.risk_tier is not None and meta.risk_tier not in RISK_TIERS:
        raise InvalidInputError(
            f"metadata.risk_tier {meta.risk_tier!r} is not one of {', '.join(RISK_TIERS)}"
        )
    if "reference_profile" in meta.lineage:
        raise InvalidInputError(
            "metadata.lineage.reference_profile is set by the server",
            hint="send the profile as the 'reference' part",
        )
    return meta


def _reference(text: str | None) -> tuple[ReferenceProfile, str | None] | None:
    if text is None:
        return None
    data = _json("reference", text)
    note = data.get("note") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or set(data) - {"profile", "note"}
        or not (note is None or isinstance(note, str))
    ):
        raise InvalidInputError(
            'reference must be {"profile": {…}, "note": text or null}',
            hint="send the reference profile as built at registration",
        )
    try:
        return ReferenceProfile.from_dict(data["profile"]), note
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(f"reference.profile is not a reference profile: {exc!r}") from exc


def _json(part: str, text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError as exc:
        raise InvalidInputError(f"the {part} part is not JSON: {exc}") from exc


def _check_tar(path: Path) -> None:
    """Refuse anything but a plain tar of regular files and folders (names only, nothing
    extracted: the server does not open the model)."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = tar.getmembers()
    except (tarfile.TarError, EOFError) as exc:
        raise InvalidInputError(
            f"the artifact part is not a tar: {exc}",
            hint="upload the package RemoteClient.register_model builds",
        ) from exc
    for member in members:
        check_relative(member.name)
        if not (member.isfile() or member.isdir()):
            raise InvalidInputError(f"artifact member {member.name!r} is not a regular file")


def _package(
    tar: Path,
    meta: VersionMetadata,
    reference: tuple[ReferenceProfile, str | None] | None,
    caller: Caller,
) -> Package:
    """The package to record, each field checked as local registration checks it."""
    try:
        signature = Signature.from_dict(meta.signature) if meta.signature is not None else None
    except InvalidInputError as exc:
        raise InvalidInputError(f"metadata.signature: {exc.message}", hint=exc.hint) from exc
    lineage = check_json("lineage", meta.lineage)
    source = lineage.get("source")
    if isinstance(source, dict) and source.get("pickle_trusted_by") is not None:
        lineage["source"] = {**source, "pickle_trusted_by": caller.name}  # who vouches: the caller
    return Package(
        tar=tar,
        flavor=meta.flavor,
        flavor_config=check_json("flavor_config", meta.flavor_config),
        signature=signature,
        input_example=meta.input_example,
        metrics=check_metrics(meta.metrics),
        params=check_json("params", meta.params),
        tags=meta.tags,
        lineage=lineage,
        description=meta.description,
        reference=reference,
        model_fields={
            "description": meta.description,
            "owner": meta.owner or caller.name,
            "risk_tier": meta.risk_tier,
        },
    )

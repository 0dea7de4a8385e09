"""Loading and registering models in remote mode: the artifact travels over the API.

Loading downloads a version's artifact, verifies it and loads it here. Registering builds the
package here (:func:`~modelward.registry.package.build_package`) and uploads it; the server
records it without ever loading it.

The download goes to a private file under the cache folder and is hashed as it arrives; only
bytes whose sha256 equals the version's digest are unpacked, and nothing is left behind when
they do not (or when the download stops half-way).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path

from modelward.artifacts.base import CHUNK
from modelward.config import Settings
from modelward.errors import ArtifactIntegrityError
from modelward.registry.loaded import LoadedModel
from modelward.registry.loading import load_blob
from modelward.registry.package import Package
from modelward.remote.transport import Transport, quote, rebuild
from modelward.store.entities import ModelVersion


def artifact_path(version: ModelVersion) -> str:
    """The API path of a version's artifact."""
    return f"/models/{quote(version.name)}/versions/{version.version}/artifact"


def download(http: Transport, version: ModelVersion, folder: Path) -> Path:
    """Download ``version``'s artifact into a new file under ``folder``, refusing (and removing)
    it unless its sha256 is the version's digest; the caller deletes the file it gets."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="download-", suffix=".tar")
    path = Path(name)
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, http.open("GET", artifact_path(version)) as response:
            while chunk := response.read(CHUNK):
                sha.update(chunk)
                out.write(chunk)
        if sha.hexdigest() != version.digest:
            raise ArtifactIntegrityError(
                f"the artifact of {version.ref} downloaded from {http.base_url} hashes to "
                f"{sha.hexdigest()}, not to the version's digest {version.digest}; "
                "refusing to load it",
                hint="retry; if it persists, the server's copy or a proxy on the way alters it",
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def load_remote(http: Transport, version: ModelVersion, settings: Settings) -> LoadedModel:
    """Download, verify and load ``version`` (see :func:`download`)."""
    settings.ensure_home()
    path = download(http, version, settings.cache_dir)
    try:
        with path.open("rb") as blob:
            return load_blob(version, blob, settings)
    finally:
        path.unlink(missing_ok=True)


def upload_package(http: Transport, name: str, package: Package) -> ModelVersion:
    """Upload a package built here (the tar, its metadata and reference profile) as the next
    version of ``name``; the server hashes the tar and records the version as the token's user."""
    metadata = {
        "flavor": package.flavor,
        "flavor_config": package.flavor_config,
        "signature": package.signature.to_dict() if package.signature else None,
        "input_example": package.input_example,
        "metrics": package.metrics,
        "params": package.params,
        "tags": package.tags,
        "lineage": package.lineage,
        "description": package.description,
        "risk_tier": package.model_fields.get("risk_tier"),
        "owner": package.model_fields.get("owner"),
    }
    fields = {"metadata": json.dumps(metadata, allow_nan=False)}
    if package.reference is not None:
        profile, note = package.reference
        fields["reference"] = json.dumps({"profile": profile.to_dict(), "note": note})
    body, kind = form(fields, "artifact", package.tar.read_bytes())
    answer = http.send("POST", f"/models/{quote(name)}/versions", data=body, content_type=kind)
    return rebuild(ModelVersion.from_dict, answer)


def form(fields: dict[str, str], file_part: str, content: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with JSON ``fields`` and one file part; the body and its
    ``Content-Type``."""
    boundary = "mw-" + secrets.token_hex(16)
    while boundary.encode() in content or any(boundary in v for v in fields.values()):
        boundary = "mw-" + secrets.token_hex(16)  # 128 random bits: practically never
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n'
        f"Content-Type: application/json\r\n\r\n{value}\r\n".encode()
        for key, value in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_part}"; '
        f'filename="model.tar"\r\nContent-Type: application/x-tar\r\n\r\n'
    )
    body = b"".join(parts) + head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"

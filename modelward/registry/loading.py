"""Turning a verified artifact into a loaded model: shared by the embedded registry, which reads
the blob from its artifact store, and the remote client, which downloads it from the API."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import IO

from modelward.artifacts.bundle import unpack
from modelward.config import Settings
from modelward.registry.loaded import LoadedModel
from modelward.runtimes.flavors import get_flavor
from modelward.store.entities import ModelVersion


def load_blob(version: ModelVersion, blob: IO[bytes], settings: Settings) -> LoadedModel:
    """Unpack ``blob`` (already verified against ``version.digest``) into a fresh folder under
    the cache and load the version's runtime there; the folder is removed on any failure."""
    flavor = get_flavor(version.flavor)
    settings.ensure_home()
    workdir = Path(tempfile.mkdtemp(dir=settings.cache_dir, prefix="load-"))
    try:
        unpack(blob, workdir)
        runtime = flavor.runtime(workdir, version.flavor_config)
        runtime.load()
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return LoadedModel(version, runtime, workdir)

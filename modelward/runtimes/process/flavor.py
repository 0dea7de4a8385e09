"""The ``process`` flavor: a model in any language, run as supervised child processes.

A folder with ``process_model.yaml`` names a program (``command: ["node", "model.js"]``) that
speaks newline-delimited JSON on stdin/stdout (docs/process-protocol.md). Registration copies
the folder's files, starts the program once and reads its signature from the handshake; loading
starts ``copies`` copies that are killed and restarted whenever they misbehave.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.process.child import ChildFailure
from modelward.runtimes.process.pool import Pool
from modelward.runtimes.process.protocol import PROTOCOL_VERSION, Description, from_wire
from modelward.runtimes.process.spec import (
    DEFAULTS,
    SPEC_FILE,
    collect_files,
    copy_files,
    launch_for,
    plan_command,
    read_spec,
)
from modelward.runtimes.process.supervisor import Backoff, Copy, Limits
from modelward.signatures import Signature


class ProcessFlavor(Flavor):
    name = "process"
    priority = 10

    def sniff(self, path: Path) -> bool:
        return path.is_dir() and (path / SPEC_FILE).is_file()

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        root = path if path.is_dir() else path.parent
        spec = read_spec(root / SPEC_FILE)
        copy_files(root, dest, collect_files(root, spec.files))
        config: dict[str, Any] = {
            "protocol": PROTOCOL_VERSION,
            "command": list(spec.command),
            "local_args": plan_command(spec.command, root, dest),
            "copies": spec.copies,
            "env": spec.env,
            **spec.numbers,
        }
        probe = ProcessRuntime(dest, {**config, "copies": 1})
        probe.load()  # fail at registration, not at first use, when the program is broken
        probe.unload()
        described = probe.description_
        config.update(
            name=described.name,
            version=described.version,
            params=described.params,
            signature=described.signature.to_dict(),
        )
        return SavedModel(config, described.signature)

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return ProcessRuntime(path, config)


class ProcessRuntime(Runtime):
    """The program's copies, started by ``load`` and stopped by ``unload``."""

    def load(self) -> None:
        launch = launch_for(self.path, self.config)
        numbers: dict[str, Any] = {**DEFAULTS}
        numbers.update((k, v) for k, v in self.config.items() if k in DEFAULTS and v is not None)
        limits = Limits(
            timeout=float(numbers["timeout_seconds"]),
            start_timeout=float(numbers["start_timeout_seconds"]),
            memory_limit_mb=numbers["memory_limit_mb"],
        )
        copies = [Copy(i, launch, limits, Backoff()) for i in range(int(self.config["copies"]))]
        queue_timeout = numbers["queue_timeout_seconds"]
        self.pool_ = Pool(copies, limits.timeout if queue_timeout is None else queue_timeout)
        # A runtime dropped without unload() still stops its copies (at the latest at exit).
        self._finalizer = weakref.finalize(self, self.pool_.close)
        try:
            self.description_: Description = self.pool_.start()
        except ChildFailure as exc:
            raise InvalidModelError(
                f"the model program failed to start: {exc}",
                hint="run the command by hand in the model folder and send it "
                '{"type":"describe"} to see what goes wrong',
            ) from None
        recorded = self.config.get("signature")
        if recorded is not None and Signature.from_dict(recorded) != self.description_.signature:
            self._finalizer()
            raise InvalidModelError(
                "the model program now describes a different signature than when it was registered",
                hint="register the program again as a new version",
            )

    def check_params(self, params: Mapping[str, Any]) -> None:
        accepted = self.config.get("params") or {}
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise InvalidInputError(
                f"unknown prediction parameter(s): {', '.join(unknown)}",
                hint=f"this model accepts: {', '.join(sorted(accepted)) or 'none'}",
            )

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        columns = {str(name): frame[name].to_numpy() for name in frame.columns}
        return pd.DataFrame(self._score(columns, params, len(frame)))

    def predict_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        rows = len(next(iter(columns.values()))) if columns else 0
        return self._score(columns, params, rows)

    def _score(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any], rows: int
    ) -> dict[str, np.ndarray]:
        self.check_params(params)
        answer = self.pool_.run(columns, params, rows)
        return from_wire(answer, self.description_.signature.outputs)

    def unload(self) -> None:
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()  # closes the pool, once

    def stats(self) -> list[dict[str, Any]]:
        """Per copy: pid, state, restarts, requests, failures, cpu_seconds and rss_bytes."""
        pool = getattr(self, "pool_", None)
        return pool.stats() if pool is not None else []

    def metadata(self) -> dict[str, Any]:
        described = getattr(self, "description_", None)
        return {
            "framework": "process",
            "command": list(self.config["command"]),
            "name": described.name if described else None,
            "version": described.version if described else None,
            "copies": self.stats(),
        }

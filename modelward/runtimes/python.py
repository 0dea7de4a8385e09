"""Models written as a Python class with ``predict``, shipped as code plus data files.

The class is named by an import path (``module:Class``). Code files given at registration are
stored in the artifact and imported from it under a name unique to the artifact, so two versions
of the same module never collide and nothing is reloaded on later loads.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from modelward.errors import (
    InvalidInputError,
    InvalidModelError,
    ModelFailedError,
    ModelwardError,
    UnsafePathError,
)
from modelward.paths import check_relative, safe_join
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions, output_frame

SPEC_FILE = "python_model.yaml"
_ENTRY = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")


@dataclass(frozen=True)
class PythonModel:
    """A user class to register: ``entry`` is ``module:Class``; ``code`` and ``data`` are paths.

    ``code`` lists ``.py`` files or package folders stored with the model; ``data`` maps names to
    files or folders the class receives in ``load(data)`` as local paths.
    """

    entry: str
    code: Sequence[str | Path] = ()
    data: Mapping[str, str | Path] = field(default_factory=dict)


class PythonFlavor(Flavor):
    name = "python"
    packages = ("pandas", "numpy")
    priority = 10

    def detect(self, obj: Any) -> bool:
        return isinstance(obj, PythonModel)

    def sniff(self, path: Path) -> bool:
        return path.is_dir() and (path / SPEC_FILE).is_file()

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        if not isinstance(obj, PythonModel):
            raise InvalidModelError(
                "the python flavor saves PythonModel(entry=..., code=..., data=...)"
            )
        return self._write(obj, dest)

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        spec_file = path / SPEC_FILE if path.is_dir() else path
        try:
            spec = yaml.safe_load(spec_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidModelError(f"cannot read {spec_file}: {exc}") from exc
        if (
            not isinstance(spec, dict)
            or set(spec) - {"entry", "code", "data"}
            or "entry" not in spec
        ):
            raise InvalidModelError(
                f"{spec_file.name} must be a mapping with 'entry' and optional 'code' and 'data'"
            )
        root = spec_file.parent
        model = PythonModel(
            entry=spec["entry"],
            code=[safe_join(root, str(c)) for c in spec.get("code") or []],
            data={str(k): safe_join(root, str(v)) for k, v in (spec.get("data") or {}).items()},
        )
        return self._write(model, dest)

    def _write(self, model: PythonModel, dest: Path) -> SavedModel:
        if not isinstance(model.entry, str) or not _ENTRY.match(model.entry):
            raise InvalidModelError(
                f"invalid entry {model.entry!r}", hint="write it as package.module:ClassName"
            )
        code = []
        for item in model.code:
            src = _existing(Path(item), "code")
            target = dest / "code" / src.name
            _copy(src, target)
            code.append(target.relative_to(dest).as_posix())
        data = {}
        for key, item in model.data.items():
            check_relative(key)
            src = _existing(Path(item), f"data {key!r}")
            target = dest / "data" / key / src.name
            _copy(src, target)
            data[key] = target.relative_to(dest).as_posix()
        config = {"entry": model.entry, "code": code, "data": data}
        probe = PythonRuntime(dest, config)
        probe.load()  # fail at registration, not at first use, when the class is broken
        probe.unload()
        return SavedModel(config)

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return PythonRuntime(path, config)


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise InvalidModelError(f"{what} path {path} does not exist")
    return path.resolve()


def _copy(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        for link in (p for p in src.rglob("*") if p.is_symlink()):
            if not link.resolve().is_relative_to(src):
                raise UnsafePathError(f"{link} is a symlink out of {src}; refused")
        shutil.copytree(src, target, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copyfile(src, target)


class PythonRuntime(Runtime):
    def load(self) -> None:
        module_name, _, class_name = self.config["entry"].partition(":")
        module = self._import(module_name)
        cls = getattr(module, class_name, None)
        if not inspect.isclass(cls):
            raise InvalidModelError(f"{module_name} has no class {class_name!r}")
        try:
            self.model_: Any = cls()
            if hasattr(self.model_, "load"):
                data = {k: safe_join(self.path, v) for k, v in self.config["data"].items()}
                self.model_.load(data)
        except Exception as exc:
            raise InvalidModelError(f"{self.config['entry']} failed to load: {exc!r}") from exc
        if not callable(getattr(self.model_, "predict", None)):
            raise InvalidModelError(f"{self.config['entry']} has no predict method")
        self._accepted = dict(getattr(self.model_, "params", {}) or {})

    def check_params(self, params: Mapping[str, Any]) -> None:
        unknown = sorted(set(params) - set(self._accepted))
        if unknown:
            raise InvalidInputError(
                f"unknown prediction parameter(s): {', '.join(unknown)}",
                hint=f"this model accepts: {', '.join(sorted(self._accepted)) or 'none'}",
            )

    def _import(self, module_name: str) -> Any:
        top = module_name.split(".")[0]
        for rel in self.config["code"]:
            code_path = safe_join(self.path, rel)
            if code_path.stem == top or code_path.name == top:
                return _import_from(code_path, module_name)
        try:
            return importlib.import_module(module_name)
        except ImportError as exc:
            raise InvalidModelError(
                f"cannot import {module_name!r}: {exc}",
                hint="ship the module with code=[...] or install it where the model runs",
            ) from exc

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        try:
            result = self.model_.predict(frame, **params)
        except ModelwardError:
            raise
        except Exception as exc:  # the user's code failed: a server-side error (500), not bad input
            raise ModelFailedError(f"{self.config['entry']}.predict failed: {exc!r}") from exc
        return output_frame(result)

    def unload(self) -> None:
        self.model_ = None

    def metadata(self) -> dict[str, Any]:
        return {"entry": self.config["entry"], "data": sorted(self.config["data"])}


def _import_from(code_path: Path, module_name: str) -> Any:
    """Import ``module_name`` from shipped code under a package name unique to this artifact."""
    digest = _content_digest(code_path)
    unique = f"_modelward_code_{digest}"
    qualified = f"{unique}.{module_name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    if unique not in sys.modules:
        package = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(unique, None))
        package.__path__ = [str(code_path.parent)]
        sys.modules[unique] = package
    with _code_on_path(code_path.parent):  # so the model's own sibling imports resolve
        try:
            return importlib.import_module(qualified)
        except Exception as exc:
            raise InvalidModelError(
                f"importing {module_name} from the model's code failed: {exc!r}"
            ) from exc


def _content_digest(path: Path) -> str:
    """Digest of the shipped code, so one artifact maps to one module however often it loads."""
    sha = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        sha.update(file.relative_to(path.parent).as_posix().encode() + b"\0" + file.read_bytes())
    return sha.hexdigest()[:16]


@contextmanager
def _code_on_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))

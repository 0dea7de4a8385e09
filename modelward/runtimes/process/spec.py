"""``process_model.yaml``: what to run, which files to ship, and how many copies, checked strictly.

Paths in the file are relative to its folder and refused when they leave it (``..``, absolute
paths, symlinks out). The program gets a minimal environment: a few harmless variables from
the engine's own (:data:`INHERITED_ENV` and ``LC_*``), ``MODELWARD_MODEL_DIR``, and what
``env:`` adds; never the engine's credentials.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from modelward.errors import InvalidModelError, MissingDependencyError, UnsafePathError
from modelward.paths import check_relative, ensure_within, safe_join
from modelward.runtimes.process.child import Launch

SPEC_FILE = "process_model.yaml"
INHERITED_ENV = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR")
_SKIPPED_DIRS = {".git", "__pycache__", ".ipynb_checkpoints"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBERS = {  # key: (default, smallest allowed, largest allowed)
    "timeout_seconds": (30.0, 0.001, 86400.0),
    "start_timeout_seconds": (30.0, 0.001, 3600.0),
    "queue_timeout_seconds": (None, 0.0, 86400.0),
    "memory_limit_mb": (None, 1.0, 1048576.0),
}
KEYS = ("command", "files", "copies", "env", *_NUMBERS)
DEFAULTS = {key: default for key, (default, _, _) in _NUMBERS.items()}


@dataclass(frozen=True)
class ProcessSpec:
    """A checked ``process_model.yaml``."""

    command: tuple[str, ...]
    files: tuple[str, ...] | None = None
    copies: int = 1
    env: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, float | None] = field(default_factory=dict)


def read_spec(spec_file: Path) -> ProcessSpec:
    """Read and check the spec file, naming every mistake it finds first."""
    try:
        data = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidModelError(f"cannot read {spec_file}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidModelError(f"{SPEC_FILE} must be a mapping with at least 'command'")
    unknown = sorted(str(k) for k in set(data) - set(KEYS))
    if unknown:
        raise InvalidModelError(
            f"{SPEC_FILE} has unknown keys: {', '.join(unknown)}",
            hint=f"allowed keys: {', '.join(KEYS)}",
        )
    command = data.get("command")
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(a, str) and a for a in command)
    ):
        raise InvalidModelError(
            f"{SPEC_FILE}: 'command' must be a non-empty list of strings",
            hint='write the program and its arguments as a list: command: ["node", "model.js"]',
        )
    files = data.get("files")
    if files is not None and (
        not isinstance(files, list) or not all(isinstance(f, str) and f for f in files)
    ):
        raise InvalidModelError(f"{SPEC_FILE}: 'files' must be a list of relative paths or globs")
    copies = data.get("copies", 1)
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= 64:
        raise InvalidModelError(f"{SPEC_FILE}: 'copies' must be a whole number from 1 to 64")
    return ProcessSpec(
        tuple(command),
        None if files is None else tuple(files),
        copies,
        _env(data.get("env")),
        {key: _number(data, key) for key in _NUMBERS},
    )


def _number(data: Mapping[str, Any], key: str) -> float | None:
    default, low, high = _NUMBERS[key]
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidModelError(f"{SPEC_FILE}: '{key}' must be a number from {low:g} to {high:g}")
    return float(value)


def _env(env: Any) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise InvalidModelError(f"{SPEC_FILE}: 'env' must map variable names to values")
    out = {}
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise InvalidModelError(f"{SPEC_FILE}: {name!r} is not a valid variable name")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidModelError(f"{SPEC_FILE}: env {name} must be a string or a number")
        out[name] = str(value)
    return out


def collect_files(root: Path, patterns: tuple[str, ...] | None) -> list[str]:
    """Relative paths of the files to ship (the spec file included), each proven inside ``root``."""
    base = root.resolve()
    found: set[Path] = {base / SPEC_FILE}
    if patterns is None:
        found.update(_files_under(base))
    for pattern in patterns or ():
        check_relative(pattern)
        matches = sorted(base.glob(pattern))
        if not matches:
            raise InvalidModelError(f"{SPEC_FILE}: files entry {pattern!r} matches nothing")
        for match in matches:
            found.update(_files_under(match) if match.is_dir() else [match])
    rels = []
    for path in sorted(found):
        ensure_within(base, path)  # refuses symlinks that lead out of the folder
        if not path.is_file():
            raise InvalidModelError(f"{path.relative_to(base)} is not a regular file")
        rels.append(path.relative_to(base).as_posix())
    return rels


def _files_under(folder: Path) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if not _SKIPPED_DIRS & set(p.relative_to(folder).parts) and (p.is_file() or p.is_symlink())
    ]


def copy_files(root: Path, dest: Path, rels: list[str]) -> None:
    """Copy each file's content (never a symlink) from ``root`` into ``dest``."""
    for rel in rels:
        target = safe_join(dest, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(safe_join(root, rel), target)


def plan_command(command: tuple[str, ...], root: Path, dest: Path) -> list[int]:
    """Indices of arguments that name shipped files (passed as absolute paths at load)."""
    local = []
    for index, arg in enumerate(command):
        if arg.startswith("-") or arg.startswith("/") or (index == 0 and "/" not in arg):
            if index == 0 and arg.startswith("/") and not os.access(arg, os.X_OK):
                raise InvalidModelError(f"the program {arg} does not exist or is not executable")
            continue
        if ".." in PurePosixPath(arg).parts:
            raise UnsafePathError(
                f"command argument {arg!r} leads out of the model folder",
                hint="put what the program needs inside the folder",
            )
        if _exists(dest, arg):
            check_relative(arg)
            local.append(index)
        elif _exists(root, arg) or index == 0:
            raise InvalidModelError(
                f"command argument {arg!r} is not among the files shipped with the model",
                hint="add it to 'files:' in " + SPEC_FILE,
            )
    return local


def _exists(folder: Path, arg: str) -> bool:
    try:
        return (folder / arg).exists()
    except (OSError, ValueError):
        return False


def launch_for(folder: Path, config: Mapping[str, Any]) -> Launch:
    """How to start the program from an unpacked model folder."""
    local = set(config.get("local_args") or ())
    argv = [
        str(safe_join(folder, arg)) if i in local else arg
        for i, arg in enumerate(config["command"])
    ]
    env = program_env(folder, config.get("env") or {})
    if 0 in local:  # artifacts store files without their executable bit
        mode = os.stat(argv[0]).st_mode
        os.chmod(argv[0], mode | stat.S_IXUSR)
    elif "/" not in argv[0]:
        found = shutil.which(argv[0], path=env.get("PATH"))
        if found is None:
            raise MissingDependencyError(
                f"the program {argv[0]!r} is not on PATH",
                hint=f"install {argv[0]} where the model runs, or ship it in the model folder",
            )
        argv[0] = found
    elif not os.access(argv[0], os.X_OK):
        raise MissingDependencyError(f"the program {argv[0]} does not exist or is not executable")
    return Launch(tuple(argv), folder.resolve(), env)


def program_env(folder: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The minimal environment: a few inherited variables, the model folder, and ``env:``."""
    env = {k: v for k, v in os.environ.items() if k in INHERITED_ENV or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    env["MODELWARD_MODEL_DIR"] = str(folder.resolve())
    env.update({str(k): str(v) for k, v in extra.items()})
    return env

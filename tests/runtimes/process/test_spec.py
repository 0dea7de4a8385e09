"""``process_model.yaml``: strict checks, the files shipped, and how the command is resolved."""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelward.errors import InvalidModelError, MissingDependencyError, UnsafePathError
from modelward.runtimes.base import SaveOptions
from modelward.runtimes.process import ProcessFlavor
from modelward.runtimes.process.spec import SPEC_FILE
from tests.runtimes.process.conftest import frame, write_model


def spec(folder: Path, data: Any) -> Path:
    (folder / SPEC_FILE).write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return folder


def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    return folder


def imported(folder: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    dest = tmp_path / "dest"
    dest.mkdir()
    return dest, ProcessFlavor().import_path(folder, dest, SaveOptions()).config


def test_registered_as_an_entry_point() -> None:
    (found,) = [ep for ep in entry_points(group="modelward.flavors") if ep.name == "process"]
    assert found.load() is ProcessFlavor


def test_sniff_and_detect(tmp_path: Path) -> None:
    flavor = ProcessFlavor()
    assert not flavor.sniff(tmp_path)
    write_model(tmp_path)
    assert flavor.sniff(tmp_path) and not flavor.sniff(tmp_path / SPEC_FILE)
    assert not flavor.detect(object())


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"command": ["x"], "replicas": 2}, "unknown keys: replicas"),
        ({"copies": 2}, "'command' must be a non-empty list"),
        ({"command": "node model.js"}, "'command' must be a non-empty list"),
        ({"command": []}, "'command' must be a non-empty list"),
        ({"command": ["x"], "copies": 0}, "'copies' must be a whole number"),
        ({"command": ["x"], "copies": True}, "'copies' must be a whole number"),
        ({"command": ["x"], "timeout_seconds": -1}, "'timeout_seconds' must be a number"),
        ({"command": ["x"], "memory_limit_mb": "lots"}, "'memory_limit_mb' must be a number"),
        ({"command": ["x"], "env": {"A-B": "1"}}, "not a valid variable name"),
        ({"command": ["x"], "env": {"A": [1]}}, "must be a string or a number"),
        ({"command": ["x"], "files": "model.js"}, "'files' must be a list"),
        ({"command": ["x"], "files": ["nothing*.js"]}, "matches nothing"),
        ("command: [unclosed", "cannot read"),
        ("- a list", "must be a mapping"),
    ],
)
def test_a_bad_spec_is_refused(tmp_path: Path, data: Any, says: str) -> None:
    with pytest.raises(InvalidModelError, match=says):
        imported(spec(source(tmp_path), data), tmp_path)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"command": ["x"], "files": ["../outside.txt"]}, "climbs out"),
        ({"command": ["x"], "files": ["/etc/hostname"]}, "absolute"),
        ({"command": [sys.executable, "../outside.py"]}, "leads out of the model folder"),
    ],
)
def test_paths_leaving_the_folder_are_refused(tmp_path: Path, data: Any, says: str) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    folder = source(tmp_path)
    with pytest.raises(UnsafePathError, match=says):
        imported(spec(folder, data), tmp_path)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    folder = write_model(tmp_path / "src")
    (folder / "weights.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(UnsafePathError, match=r"weights\.txt"):
        imported(folder, tmp_path)


def test_a_symlink_inside_the_folder_is_shipped_as_a_plain_file(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "src", env={"MODE": "echo"})
    (folder / "data").mkdir()
    (folder / "data" / "w.txt").write_text("weights")
    (folder / "alias.txt").symlink_to(folder / "data" / "w.txt")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "junk.pyc").write_bytes(b"junk")
    dest, _ = imported(folder, tmp_path)
    shipped = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert shipped == ["alias.txt", "data/w.txt", "model.py", SPEC_FILE]
    assert not (dest / "alias.txt").is_symlink() and (dest / "alias.txt").read_text() == "weights"


def test_files_limits_what_is_shipped_and_must_include_the_program(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "src", files=["model.py"])
    (folder / "notes.txt").write_text("not shipped")
    dest, config = imported(folder, tmp_path)
    assert sorted(p.name for p in dest.iterdir()) == ["model.py", SPEC_FILE]
    assert config["local_args"] == [1]
    other = write_model(tmp_path / "other", files=["notes.txt"])
    (other / "notes.txt").write_text("shipped")
    with pytest.raises(InvalidModelError, match=r"'model\.py' is not among the files shipped"):
        imported(other, tmp_path / "other")


def test_a_program_shipped_in_the_folder_runs_without_its_executable_bit(tmp_path: Path) -> None:
    folder = write_model(
        tmp_path / "src", command=["./run.sh"], env={"PYTHON": sys.executable, "MODE": "echo"}
    )
    (folder / "run.sh").write_text('#!/bin/sh\nexec "$PYTHON" model.py\n')
    dest, config = imported(folder, tmp_path)
    assert config["local_args"] == [0]
    os.chmod(dest / "run.sh", 0o644)  # as an artifact unpacks it
    runtime = ProcessFlavor().runtime(dest, config)
    runtime.load()
    try:
        assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    finally:
        runtime.unload()


def test_a_program_missing_from_path_says_what_to_install(tmp_path: Path) -> None:
    folder = spec(source(tmp_path), {"command": ["no-such-runtime-xyz", "m.js"]})
    with pytest.raises(MissingDependencyError, match="'no-such-runtime-xyz' is not on PATH"):
        imported(folder, tmp_path)


def test_the_config_records_what_the_runtime_needs(tmp_path: Path) -> None:
    folder = write_model(
        tmp_path / "src", copies=3, timeout_seconds=2, memory_limit_mb=512, env={"A": 1}
    )
    _, config = imported(folder, tmp_path)
    assert config["command"] == [sys.executable, "model.py"] and config["protocol"] == 1
    assert (config["copies"], config["timeout_seconds"], config["memory_limit_mb"]) == (3, 2, 512)
    assert config["env"] == {"A": "1"} and config["params"] == {
        "sleep": "seconds to wait before answering"
    }
    assert config["signature"]["inputs"] == [{"name": "x", "type": "double", "nullable": True}]

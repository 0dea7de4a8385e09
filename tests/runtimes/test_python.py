"""The python flavor: user classes with code and data files, and the ways they can go wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from modelward.client import Client
from modelward.errors import InvalidInputError, InvalidModelError, ModelFailedError, UnsafePathError
from modelward.runtimes.python import PythonModel

CODE = "class Doubler:\n    def predict(self, frame):\n        return frame['x'] * 2\n"


def write_code(folder: Path, text: str = CODE, name: str = "doubler.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_folder_with_python_model_yaml_registers_from_the_cli_path(
    sqlite_client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    write_code(folder)
    (folder / "python_model.yaml").write_text("entry: doubler:Doubler\ncode: [doubler.py]\n")
    version = sqlite_client.register_model(folder, "doubler", input_example={"x": [1.0]})
    assert version.flavor == "python"
    assert sqlite_client.load_model("doubler").predict({"x": [2.0, 3.0]})[
        "prediction"
    ].tolist() == [4.0, 6.0]


def test_two_versions_of_the_same_module_do_not_collide(
    sqlite_client: Client, tmp_path: Path
) -> None:
    one = write_code(tmp_path / "v1")
    two = write_code(tmp_path / "v2", CODE.replace("* 2", "* 3"))
    sqlite_client.register_model(PythonModel("doubler:Doubler", code=[one]), "m")
    sqlite_client.register_model(PythonModel("doubler:Doubler", code=[two]), "m")
    first, second = sqlite_client.load_model("m/1"), sqlite_client.load_model("m/2")
    frame = pd.DataFrame({"x": [1.0]})
    assert (first.predict(frame)["prediction"][0], second.predict(frame)["prediction"][0]) == (
        2.0,
        3.0,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("entry: 'not an entry'\n", "invalid entry"),
        ("entry: doubler:Missing\ncode: [doubler.py]\n", "has no class 'Missing'"),
        ("entry: nowhere_module:X\n", "cannot import 'nowhere_module'"),
        ("entry: doubler:Doubler\ncode: [doubler.py]\nextra: 1\n", "must be a mapping"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_broken_specs_are_refused_at_registration(
    sqlite_client: Client, tmp_path: Path, spec: str, message: str
) -> None:
    folder = tmp_path / "model"
    write_code(folder)
    (folder / "python_model.yaml").write_text(spec)
    with pytest.raises(InvalidModelError, match=message):
        sqlite_client.register_model(folder, "broken", flavor="python")
    assert sqlite_client.list() == []


def test_code_that_fails_to_import_or_load_is_refused(
    sqlite_client: Client, tmp_path: Path
) -> None:
    bad = write_code(tmp_path / "a", "raise RuntimeError('boom at import')\n", "bad.py")
    with pytest.raises(InvalidModelError, match="boom at import"):
        sqlite_client.register_model(PythonModel("bad:X", code=[bad]), "m")
    failing = write_code(
        tmp_path / "b",
        "class X:\n    def load(self, data):\n        raise OSError('no data')\n    def predict(self, f):\n        return f\n",
        "failing.py",
    )
    with pytest.raises(InvalidModelError, match="no data"):
        sqlite_client.register_model(PythonModel("failing:X", code=[failing]), "m")


def test_paths_in_the_spec_cannot_leave_the_folder(sqlite_client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    write_code(folder)
    (tmp_path / "secret.txt").write_text("secret")
    for data in ("../secret.txt", "/etc/passwd", "%2e%2e/secret.txt"):
        (folder / "python_model.yaml").write_text(
            f"entry: doubler:Doubler\ncode: [doubler.py]\ndata: {{s: '{data}'}}\n"
        )
        with pytest.raises(UnsafePathError):
            sqlite_client.register_model(folder, "m", flavor="python")
    os.symlink(tmp_path / "secret.txt", folder / "link.txt")
    (folder / "python_model.yaml").write_text(
        "entry: doubler:Doubler\ncode: [doubler.py]\ndata: {s: link.txt}\n"
    )
    with pytest.raises(UnsafePathError):
        sqlite_client.register_model(folder, "m", flavor="python")


def test_predict_errors_and_unknown_parameters(sqlite_client: Client, tmp_path: Path) -> None:
    code = write_code(
        tmp_path,
        "class Broken:\n    def predict(self, frame):\n        return 1 / 0\n",
        "broken.py",
    )
    sqlite_client.register_model(PythonModel("broken:Broken", code=[code]), "m")
    loaded = sqlite_client.load_model("m")
    with pytest.raises(ModelFailedError, match="ZeroDivisionError"):
        loaded.predict({"x": [1]})
    with pytest.raises(InvalidInputError, match="accepts: none"):
        loaded.predict({"x": [1]}, scale=2)

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pandas as pd

from modelward.registry.lineage import dataset_record, environment, frame_fingerprint, git_state


def test_frame_fingerprint_follows_values_names_and_order() -> None:
    a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert frame_fingerprint(a) == frame_fingerprint(a.copy())
    assert frame_fingerprint(a) != frame_fingerprint(a.assign(x=[1, 3]))
    assert frame_fingerprint(a) != frame_fingerprint(a.rename(columns={"x": "z"}))
    assert frame_fingerprint(a) != frame_fingerprint(a.iloc[::-1].reset_index(drop=True))


def test_file_datasets_record_location_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("a,b\n1,2\n")
    record = dataset_record(path, role="training")
    assert record["location"] == str(path) and record["bytes"] == 8
    assert record["fingerprint"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    frame = dataset_record(pd.DataFrame({"a": [1]}), role="training")
    assert frame["rows"] == 1 and frame["columns"] == ["a"] and frame["location"] == "in-memory"


def test_git_state_inside_and_outside_a_repository(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / "f.txt").write_text("1")
    run("add", "f.txt")
    run("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init")
    state = git_state(tmp_path)
    assert state is not None and len(state["commit"]) == 40 and state["dirty"] is False
    assert Path(state["repository"]).resolve() == tmp_path.resolve()
    (tmp_path / "f.txt").write_text("2")
    assert git_state(tmp_path)["dirty"] is True  # type: ignore[index]


def test_environment_names_key_packages() -> None:
    env = environment(("scikit-learn", "not-a-real-package"))
    assert (
        env["python"]
        and "scikit-learn" in env["packages"]
        and "not-a-real-package" not in env["packages"]
    )
    env["packages"]["x"] = "mutated"
    assert "x" not in environment(("scikit-learn", "not-a-real-package"))["packages"]

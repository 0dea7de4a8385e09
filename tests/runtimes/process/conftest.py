"""Model folders around ``fake_model.py`` for the process-flavor tests, and a leak check."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from modelward.runtimes.base import SaveOptions
from modelward.runtimes.process import ProcessFlavor, ProcessRuntime

FAKE = Path(__file__).with_name("fake_model.py")
LoadModel = Callable[..., ProcessRuntime]


def write_model(folder: Path, **spec: Any) -> Path:
    """A model folder: the fake program as ``model.py`` and a spec that runs it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FAKE, folder / "model.py")
    spec = {"command": [sys.executable, "model.py"], **spec}
    (folder / "process_model.yaml").write_text(yaml.safe_dump(spec))
    return folder


def frame(rows: int) -> pd.DataFrame:
    """Rows ``x = 0, 1, 2, …``."""
    return pd.DataFrame({"x": np.arange(rows, dtype="float64")})


def children() -> set[int]:
    """Pids whose parent is this test process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == os.getpid():
                found.add(int(entry.name))
    return found


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for init counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


@pytest.fixture(autouse=True)
def no_leftover_children() -> Iterator[None]:
    """Every test must end with no child process of ours still running."""
    before = children()
    yield
    deadline = time.monotonic() + 3
    while (left := children() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"child processes left behind: {sorted(left)}"


@pytest.fixture
def load_model(tmp_path: Path) -> Iterator[LoadModel]:
    """Import and load the fake program in a ``MODE``; misbehaving once unless ``once=False``."""
    runtimes: list[ProcessRuntime] = []

    def load(mode: str = "echo", *, once: bool = True, **spec: Any) -> ProcessRuntime:
        n = len(runtimes)
        env = {"MODE": mode, **spec.pop("env", {})}
        if once:
            env["MARKER"] = str(tmp_path / f"marker-{n}")
        folder = write_model(tmp_path / f"src-{n}", env=env, **spec)
        dest = tmp_path / f"dest-{n}"
        dest.mkdir()
        saved = ProcessFlavor().import_path(folder, dest, SaveOptions())
        runtime = ProcessFlavor().runtime(dest, saved.config)
        assert isinstance(runtime, ProcessRuntime)
        runtime.load()
        runtimes.append(runtime)
        return runtime

    yield load
    for runtime in runtimes:
        runtime.unload()

"""Copies: backpressure, splitting large frames, concurrency, clean unload, environment."""

from __future__ import annotations

import gc
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from modelward.errors import (
    InvalidInputError,
    InvalidModelError,
    OverloadedError,
    WorkerUnavailableError,
)
from modelward.runtimes.base import SaveOptions
from modelward.runtimes.process import ProcessFlavor, ProcessRuntime
from modelward.runtimes.process.pool import MAX_CHUNK_ROWS, MIN_CHUNK_ROWS, chunk_bounds
from tests.runtimes.process.conftest import LoadModel, frame, gone, write_model


def wait_for_state(runtime: ProcessRuntime, state: str) -> None:
    deadline = time.monotonic() + 5
    while not all(copy["state"] == state for copy in runtime.stats()):
        assert time.monotonic() < deadline, runtime.stats()
        time.sleep(0.01)


def test_busy_copies_make_a_request_fail_as_overloaded_instead_of_hanging(
    load_model: LoadModel,
) -> None:
    runtime = load_model(timeout_seconds=5, queue_timeout_seconds=0.2)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(runtime.predict, frame(2), {"sleep": 1.0})
        wait_for_state(runtime, "busy")
        start = time.monotonic()
        with pytest.raises(OverloadedError, match=r"all 1 copies of .* stayed busy for 0\.2 s"):
            runtime.predict(frame(2), {})
        assert time.monotonic() - start < 0.9
        assert slow.result()["y"].tolist() == [0.0, 2.0]
    assert runtime.predict(frame(1), {})["y"].tolist() == [0.0]
    assert runtime.stats()[0]["restarts"] == 0


def test_requests_wait_for_a_free_copy_within_the_timeout(load_model: LoadModel) -> None:
    runtime = load_model(copies=2, timeout_seconds=5)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: runtime.predict(frame(n), {}), range(1, 17)))
    for n, out in enumerate(results, start=1):
        assert out["y"].tolist() == [2.0 * i for i in range(n)]
    assert sum(copy["requests"] for copy in runtime.stats()) == 16


def test_a_large_frame_is_split_across_the_copies_and_joined_in_order(
    load_model: LoadModel,
) -> None:
    runtime = load_model(copies=2)
    out = runtime.predict(frame(1000), {"sleep": 0.3})
    np.testing.assert_array_equal(out["y"].to_numpy(), 2.0 * np.arange(1000))
    assert out["y"].dtype == np.float64 and out["pid"].dtype == np.int64
    assert set(out["pid"]) == {copy["pid"] for copy in runtime.stats()}


def test_chunks_cover_every_row_once() -> None:
    assert chunk_bounds(0, 4) == [(0, 0)]
    assert chunk_bounds(MIN_CHUNK_ROWS * 2 - 1, 4) == [(0, MIN_CHUNK_ROWS * 2 - 1)]
    assert chunk_bounds(1000, 2) == [(0, 500), (500, 1000)]
    bounds = chunk_bounds(MAX_CHUNK_ROWS * 3 + 1, 1)
    assert len(bounds) == 4 and bounds[0][0] == 0 and bounds[-1][1] == MAX_CHUNK_ROWS * 3 + 1
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))


def test_unload_leaves_no_process_behind_not_even_grandchildren(load_model: LoadModel) -> None:
    runtime = load_model("grandchild", copies=2)
    grandchild = int(runtime.metadata()["version"])
    pids = [copy["pid"] for copy in runtime.stats()]
    assert not gone(grandchild) and not any(gone(pid) for pid in pids)
    runtime.unload()
    deadline = time.monotonic() + 2
    while not gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(gone(pid) for pid in [*pids, grandchild])
    assert [(c["pid"], c["state"]) for c in runtime.stats()] == [(None, "stopped")] * 2


def test_stats_and_metadata_report_each_copy(load_model: LoadModel) -> None:
    runtime = load_model(copies=2)
    runtime.predict(frame(3), {})
    stats = runtime.stats()
    assert [c["copy"] for c in stats] == [0, 1]
    for copy in stats:
        assert copy["pid"] > 0 and copy["state"] == "ready" and copy["restarts"] == 0
        assert copy["rss_bytes"] > 1_000_000 and copy["cpu_seconds"] >= 0.0
    meta = runtime.metadata()
    assert meta["framework"] == "process" and meta["command"][1] == "model.py"
    assert meta["name"] == "fake" and [c["copy"] for c in meta["copies"]] == [0, 1]


def test_unknown_parameters_and_unsendable_values_are_refused(load_model: LoadModel) -> None:
    runtime = load_model()
    with pytest.raises(InvalidInputError, match=r"unknown prediction parameter.*accepts: sleep"):
        runtime.predict(frame(1), {"temperature": 1})
    bad = frame(2).assign(x=[1.0, np.inf])
    with pytest.raises(InvalidInputError, match="infinite"):
        runtime.predict(bad, {})
    with_nan = runtime.predict(frame(2).assign(x=[np.nan, 1.0]), {})
    assert np.isnan(with_nan["y"][0]) and with_nan["y"][1] == 2.0


def test_the_program_gets_a_minimal_environment(
    load_model: LoadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    runtime = load_model("env", env={"EXTRA": "1"})
    names = set(runtime.metadata()["version"].split(","))
    assert {"PATH", "MODE", "EXTRA", "MODELWARD_MODEL_DIR"} <= names
    assert "AWS_SECRET_ACCESS_KEY" not in names and "MODELWARD_HOME" not in names


def test_a_runtime_after_unload_refuses_requests(load_model: LoadModel) -> None:
    runtime = load_model()
    runtime.unload()
    runtime.unload()  # twice is harmless
    with pytest.raises(WorkerUnavailableError, match="unloaded"):
        runtime.predict(frame(1), {})


def test_a_runtime_dropped_without_unload_still_stops_its_copies(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "src", env={"MODE": "echo"}, copies=2)
    saved = ProcessFlavor().import_path(folder, tmp_path, SaveOptions())
    runtime = ProcessFlavor().runtime(tmp_path, saved.config)
    assert isinstance(runtime, ProcessRuntime)
    runtime.load()
    pids = [copy["pid"] for copy in runtime.stats()]
    del runtime
    gc.collect()
    assert all(gone(pid) for pid in pids)


def test_a_program_describing_a_new_signature_is_refused_at_load(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "src", env={"MODE": "echo"})
    saved = ProcessFlavor().import_path(folder, tmp_path, SaveOptions())
    recorded = {**saved.config["signature"], "inputs": [{"name": "z", "type": "double"}]}
    runtime = ProcessFlavor().runtime(tmp_path, {**saved.config, "signature": recorded})
    with pytest.raises(InvalidModelError, match="different signature"):
        runtime.load()

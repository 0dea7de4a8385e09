"""Misbehaving programs: each failure fails one request clearly, then the copy comes back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from modelward.errors import InvalidModelError, ModelFailedError, WorkerUnavailableError
from modelward.runtimes.base import SaveOptions
from modelward.runtimes.process import ProcessFlavor, ProcessRuntime
from tests.runtimes.process.conftest import LoadModel, frame, gone, write_model

BROKEN_ANSWERS = {
    "garbage": "broke the protocol: it wrote a line that is not JSON: 'hello, this is not json'",
    "wrong_id": "answered request 'nope' while 'r1' was asked",
    "wrong_rows": "output column 'y' has 4 rows for 3 input rows",
    "unknown_type": "answered a predict request with a 'banana' message",
    "exit": "(?s)failed: it exited with code 3; it will be restarted. "
    "Its last stderr lines:.*exiting on purpose",
}


def wait_until_ready(runtime: ProcessRuntime, restarts: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        (copy,) = runtime.stats()
        if copy["restarts"] >= restarts and copy["state"] == "ready":
            return
        time.sleep(0.02)
    raise AssertionError(f"the copy did not come back: {runtime.stats()}")


@pytest.mark.parametrize(("mode", "says"), BROKEN_ANSWERS.items(), ids=list(BROKEN_ANSWERS))
def test_a_broken_answer_kills_the_copy_and_the_next_request_succeeds(
    load_model: LoadModel, mode: str, says: str
) -> None:
    runtime = load_model(mode, timeout_seconds=2)
    (before,) = runtime.stats()
    with pytest.raises(WorkerUnavailableError, match=says) as info:
        runtime.predict(frame(3), {})
    assert "it will be restarted" in str(info.value) and info.value.hint
    assert runtime.predict(frame(3), {})["y"].tolist() == [0.0, 2.0, 4.0]
    (after,) = runtime.stats()
    assert (after["restarts"], after["failures"]) == (1, 1)
    assert after["pid"] != before["pid"] and gone(before["pid"])


def test_a_program_that_never_answers_is_killed_at_the_timeout(load_model: LoadModel) -> None:
    runtime = load_model("hang", timeout_seconds=0.5)
    (before,) = runtime.stats()
    start = time.monotonic()
    with pytest.raises(WorkerUnavailableError, match=r"did not answer within 0\.5 s"):
        runtime.predict(frame(2), {})
    assert time.monotonic() - start < 2.0
    assert gone(before["pid"])
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    assert runtime.stats()[0]["restarts"] == 1


def test_memory_over_the_limit_during_a_request_kills_the_copy(load_model: LoadModel) -> None:
    runtime = load_model("memory", memory_limit_mb=100, timeout_seconds=10)
    start = time.monotonic()
    with pytest.raises(WorkerUnavailableError, match=r"MB of memory, over memory_limit_mb=100"):
        runtime.predict(frame(2), {})
    assert time.monotonic() - start < 5.0
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    assert runtime.stats()[0]["restarts"] == 1


def test_memory_grown_after_answering_recycles_the_copy_before_its_next_request(
    load_model: LoadModel,
) -> None:
    runtime = load_model("memory_after", memory_limit_mb=100)
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    deadline = time.monotonic() + 5
    while (runtime.stats()[0]["rss_bytes"] or 0) < 150 * 2**20:
        assert time.monotonic() < deadline, "the program never grew"
        time.sleep(0.02)
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    (copy,) = runtime.stats()
    assert copy["restarts"] == 1 and "while idle" in copy["last_error"]
    assert copy["rss_bytes"] < 100 * 2**20


def test_an_error_answer_fails_the_request_but_keeps_the_copy(load_model: LoadModel) -> None:
    runtime = load_model("error")
    (before,) = runtime.stats()
    with pytest.raises(ModelFailedError, match="x must be positive"):
        runtime.predict(frame(2), {})
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    (after,) = runtime.stats()
    assert after["pid"] == before["pid"] and after["restarts"] == 0


@pytest.mark.parametrize("mode", ["exit_after", "chatty"])
def test_a_copy_broken_while_idle_is_replaced_before_it_gets_a_request(
    load_model: LoadModel, mode: str
) -> None:
    runtime = load_model(mode)
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    time.sleep(0.3)  # let it exit, or its unasked line arrive
    assert runtime.predict(frame(2), {})["y"].tolist() == [0.0, 2.0]
    assert runtime.stats()[0]["restarts"] == 1


def test_a_program_crashing_at_start_is_refused_at_registration(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "src", env={"MODE": "crash"})
    with pytest.raises(InvalidModelError, match=r"(?s)exited with code 2.*boom: cannot load"):
        ProcessFlavor().import_path(folder, tmp_path, SaveOptions())


def test_a_program_crashing_at_load_fails_load_with_its_stderr(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "src", env={"MODE": "echo"}, copies=2)
    dest = tmp_path / "dest"
    dest.mkdir()
    saved = ProcessFlavor().import_path(folder, dest, SaveOptions())
    runtime = ProcessFlavor().runtime(dest, {**saved.config, "env": {"MODE": "crash"}})
    assert isinstance(runtime, ProcessRuntime)
    with pytest.raises(InvalidModelError, match="boom: cannot load the weights") as info:
        runtime.load()
    assert "failed to start" in str(info.value) and info.value.hint
    assert all(copy["pid"] is None for copy in runtime.stats())


def test_a_program_that_keeps_crashing_is_retried_with_backoff_until_it_starts(
    load_model: LoadModel, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    runtime = load_model(
        "exit", env={"START_GATE": str(gate)}, timeout_seconds=1, queue_timeout_seconds=0.3
    )
    gate.touch()
    with pytest.raises(WorkerUnavailableError, match="exited with code 3"):
        runtime.predict(frame(1), {})
    with pytest.raises(WorkerUnavailableError, match=r"(?s)no copy .* is ready.*boom"):
        runtime.predict(frame(1), {})
    assert runtime.stats()[0]["failures"] >= 2
    gate.unlink()
    wait_until_ready(runtime, restarts=2)
    assert runtime.predict(frame(1), {})["y"].tolist() == [0.0]

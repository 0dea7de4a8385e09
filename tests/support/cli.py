"""Running the ``modelward`` command in-process through its real entry point."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from modelward.cli import main


@dataclass
class Result:
    """Exit code and captured output of one command."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]


def make_runner(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """A function that runs ``modelward ARGS…`` and returns its :class:`Result`."""
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str, input_text: str | None = None) -> Result:
        monkeypatch.setattr(sys, "argv", ["modelward", *args])
        if input_text is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(input_text))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke

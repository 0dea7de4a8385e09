from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from modelward.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``modelward ARGS…`` in-process through the real entry point; return code and output."""
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str, input_text: str | None = None) -> Result:
        monkeypatch.setattr(sys, "argv", ["modelward", *args])
        if input_text is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.StringIO(input_text))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke

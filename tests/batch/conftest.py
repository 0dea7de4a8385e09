"""Fixtures for batch scoring: the CLI run through its real entry point, and small models."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelward.cli import main
from modelward.client import Client
from modelward.runtimes.python import PythonModel

#: A python-flavor model: ``2·x``, raising on x == 13 and killing its process on x == 666.
SCORER = """\
import os


class Scorer:
    def predict(self, frame):
        if (frame["x"] == 666).any():
            os._exit(1)
        if (frame["x"] == 13).any():
            raise ValueError("unlucky 13")
        return frame["x"] * 2
"""

SIGNATURE = {
    "inputs": [
        {"name": "id", "type": "long"},
        {"name": "x", "type": "double", "nullable": False, "minimum": 0, "maximum": 1000},
        {"name": "colour", "type": "string", "categories": ["red", "green"]},
    ]
}


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

    def invoke(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["modelward", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def scorer(tmp_path: Path) -> str:
    """Register the python-flavor ``Scorer`` with :data:`SIGNATURE`; return its name."""
    code = tmp_path / "code" / "scorer.py"
    code.parent.mkdir()
    code.write_text(SCORER)
    client = Client()
    client.register_model(PythonModel("scorer:Scorer", code=[code]), "scorer", signature=SIGNATURE)
    client.close()
    return "scorer"

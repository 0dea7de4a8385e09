"""Fixtures for batch scoring: the CLI run through its real entry point, and small models."""

from __future__ import annotations

from pathlib import Path

import pytest

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

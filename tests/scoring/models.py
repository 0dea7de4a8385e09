"""Registered models for scoring tests, including ones that misbehave on purpose."""

from __future__ import annotations

from pathlib import Path

from modelward.client import Client
from modelward.runtimes.python import PythonModel

TROUBLE = '''
import os, signal, time
import numpy as np

class Trouble:
    """Doubles x; misbehaves on marker values: -1 exit, -2 hang, -3 eat memory, -4 raise, -5 segfault."""

    params = {"delay": "seconds to sleep per call"}

    def load(self, data):
        if os.environ.get("MW_TEST_FAIL_LOAD"):
            raise RuntimeError("load failed on purpose")

    def predict(self, frame, delay=0.0):
        x = frame["x"].to_numpy()
        if delay:
            time.sleep(float(delay))
        if (x == -1).any():
            os._exit(1)
        if (x == -2).any():
            time.sleep(60)
        if (x == -3).any():
            hog = np.ones(600 * 1024 * 1024 // 8)
            time.sleep(60)
            return hog[: len(x)]
        if (x == -4).any():
            raise ValueError("x = -4 is not allowed")
        if (x == -5).any():
            os.kill(os.getpid(), signal.SIGSEGV)
        return x * 2
'''


def register_trouble(client: Client, folder: Path, name: str = "trouble") -> str:
    """Register the misbehaving python model; return its exact reference."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trouble.py").write_text(TROUBLE)
    version = client.register_model(
        PythonModel("trouble:Trouble", code=[folder / "trouble.py"]),
        name,
        input_example={"x": [1.0, 2.0]},
    )
    return version.ref


def register_sklearn(client: Client, name: str = "cancer") -> str:
    """A logistic regression on the breast-cancer data; return its exact reference."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(solver="liblinear").fit(x, y)
    return client.register_model(model, name, input_example=x.head()).ref

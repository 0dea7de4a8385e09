"""Registration-time compilation of scikit-learn models to ONNX, kept only when it agrees.

The compiled graph is converted with skl2onnx in double precision and scored on the input
example next to the original. It is used only if every label is identical and every number is
within ``TOLERANCE``; otherwise the original is kept and the reason recorded.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError

COMPILED_FILE = "compiled/model.onnx"
TOLERANCE = 1e-6


def compile_sklearn(model: Any, sample: pd.DataFrame | None, dest: Path) -> dict[str, Any]:
    """Try to compile ``model``; return the record that goes into the flavor config."""
    if sample is None or sample.empty:
        raise InvalidInputError(
            "compiling to ONNX needs an input example to check the compiled model against",
            hint="pass input_example= (CLI: --sample FILE)",
        )
    names = getattr(model, "feature_names_in_", None)
    if names is not None:  # the graph takes the columns in the order the model was fitted on
        missing = [str(n) for n in names if str(n) not in sample.columns]
        if missing:
            return {"onnx": False, "reason": f"the sample lacks fitted columns {missing}"}
        sample = sample[[str(n) for n in names]]
    x = sample.to_numpy(dtype="float64") if _numeric(sample) else None
    if x is None:
        return {"onnx": False, "reason": "only all-numeric inputs are compiled"}
    try:
        from skl2onnx import to_onnx

        options = {"zipmap": False} if hasattr(model, "predict_proba") else None
        graph = to_onnx(model, x[:1], options=options)
    except ImportError:
        return {
            "onnx": False,
            "reason": "skl2onnx is not installed (pip install 'modelward[onnx]')",
        }
    except Exception as exc:  # skl2onnx does not know every estimator
        return {"onnx": False, "reason": f"skl2onnx cannot convert it: {exc}"}
    target = dest / COMPILED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(graph.SerializeToString())
    compiled = CompiledOnnx(target, getattr(model, "classes_", None))
    difference = _difference(model, compiled, x)
    if difference is None or difference > TOLERANCE:
        target.unlink()
        target.parent.rmdir()
        shown = "labels differ" if difference is None else f"max difference {difference:.3g}"
        return {
            "onnx": False,
            "reason": f"outputs do not match the original on the sample ({shown})",
        }
    return {
        "onnx": True,
        "file": COMPILED_FILE,
        "max_difference": difference,
        "tolerance": TOLERANCE,
    }


def _numeric(frame: pd.DataFrame) -> bool:
    return all(dtype.kind in "iufb" for dtype in frame.dtypes)


def _difference(model: Any, compiled: CompiledOnnx, x: np.ndarray) -> float | None:
    """Largest absolute difference of the outputs, or ``None`` when a label differs."""
    ours = compiled.run(x, proba=hasattr(model, "predict_proba"))
    with warnings.catch_warnings():  # the sample travels as a matrix, as it will when serving
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        expected = np.asarray(model.predict(x))
        proba = model.predict_proba(x) if hasattr(model, "predict_proba") else None
    got = ours["prediction"]
    if expected.dtype.kind in "iubUSO":
        if not np.array_equal(expected, got):
            return None
        worst = 0.0
    else:
        worst = float(np.max(np.abs(expected.astype(float) - got.astype(float)), initial=0.0))
    if proba is not None:
        compiled_proba = np.column_stack([ours[k] for k in ours if k.startswith("probability_")])
        worst = max(worst, float(np.max(np.abs(proba - compiled_proba), initial=0.0)))
    return worst


class CompiledOnnx:
    """A compiled graph, scored like the scikit-learn model it replaces."""

    def __init__(self, path: Path, classes: Any) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.classes = list(classes) if classes is not None else []

    def run(self, x: np.ndarray, *, proba: bool) -> dict[str, np.ndarray]:
        """Outputs named as the sklearn runtime names them."""
        results = self.session.run(None, {self.input: np.ascontiguousarray(x, dtype="float64")})
        first = np.asarray(results[0])
        out = {"prediction": first.ravel() if first.ndim == 2 and first.shape[1] == 1 else first}
        if proba and len(results) > 1:
            for i, c in enumerate(self.classes):
                out[f"probability_{c}"] = np.asarray(results[1])[:, i]
        return out


def compiled_columns(
    compiled: CompiledOnnx, x: np.ndarray, params: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """Score with the compiled graph."""
    return compiled.run(x, proba=bool(params.get("proba")))

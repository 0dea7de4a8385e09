"""ONNX graphs, run with onnxruntime on the CPU."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInputError, InvalidModelError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions, output_frame
from modelward.signatures import ColumnSpec, Signature

MODEL_FILE = "model.onnx"
_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}
_SIGNATURE_TYPES = {
    "tensor(float)": "float",
    "tensor(double)": "double",
    "tensor(int64)": "long",
    "tensor(int32)": "integer",
    "tensor(bool)": "boolean",
    "tensor(string)": "string",
}


def _session(model: str | bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # warnings from graph optimisation are noise to our users
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class OnnxFlavor(Flavor):
    name = "onnx"
    extra = "onnx"
    packages = ("onnxruntime", "onnx", "numpy")
    priority = 20

    def detect(self, obj: Any) -> bool:
        onnx = sys.modules.get("onnx")
        return onnx is not None and isinstance(obj, onnx.ModelProto)

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix == ".onnx"

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        (dest / MODEL_FILE).write_bytes(obj.SerializeToString())
        return self._checked(dest / MODEL_FILE, options)

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        shutil.copyfile(path, dest / MODEL_FILE)
        return self._checked(dest / MODEL_FILE, options)

    def _checked(self, file: Path, options: SaveOptions) -> SavedModel:
        self.require("onnxruntime")
        try:
            session = _session(str(file))
        except Exception as exc:
            raise InvalidModelError(f"onnxruntime cannot load this model: {exc}") from exc
        inputs = session.get_inputs()
        config = {"file": MODEL_FILE, "inputs": [i.name for i in inputs]}
        if len(inputs) > 1 and all(i.type in _SIGNATURE_TYPES for i in inputs):
            # One input per column: the graph itself names and types the columns.
            cols = tuple(
                ColumnSpec(i.name, _SIGNATURE_TYPES[i.type], nullable=False) for i in inputs
            )
            return SavedModel(config, Signature(cols))
        return SavedModel(config)

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return OnnxRuntime(path, config)


class OnnxRuntime(Runtime):
    params = {"proba": "also return probability_<class> columns (classifier graphs)"}

    def load(self) -> None:
        self.session_: Any = _session(str(self.path / self.config["file"]))
        self._inputs = [
            (i.name, _NUMPY.get(i.type, np.float32)) for i in self.session_.get_inputs()
        ]
        self._outputs = [o.name for o in self.session_.get_outputs()]

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        columns = {str(name): frame[name].to_numpy() for name in frame.columns}
        return pd.DataFrame(self.predict_columns(columns, params))

    def predict_columns(
        self, columns: Mapping[str, np.ndarray], params: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        self.check_params(params)
        feeds: dict[str, np.ndarray]
        try:
            if len(self._inputs) == 1:
                name, dtype = self._inputs[0]
                feeds = {name: np.column_stack(list(columns.values())).astype(dtype)}
            else:
                feeds = {
                    name: np.asarray(columns[name], dtype=dtype).reshape(-1, 1)
                    for name, dtype in self._inputs
                }
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidInputError(f"cannot build the ONNX input tensors: {exc}") from exc
        results = self.session_.run(None, feeds)
        out = {str(k): v.to_numpy() for k, v in output_frame(results[0]).items()}
        if params.get("proba"):
            out.update({str(k): v.to_numpy() for k, v in self._probabilities(results).items()})
        return out

    def _probabilities(self, results: list[Any]) -> pd.DataFrame:
        for name, value in zip(self._outputs[1:], results[1:], strict=True):
            if "prob" not in name:
                continue
            if isinstance(value, list):  # skl2onnx's ZipMap: one {class: p} dict per row
                table = pd.DataFrame.from_records(value)
                return table.rename(columns=lambda c: f"probability_{c}")
            return pd.DataFrame(
                np.asarray(value), columns=[f"probability_{i}" for i in range(value.shape[1])]
            )
        raise InvalidModelError(
            "this ONNX graph has no probability output; drop the 'proba' parameter"
        )

    def unload(self) -> None:
        self.session_ = None

    def metadata(self) -> dict[str, Any]:
        return {"inputs": [n for n, _ in self._inputs], "outputs": self._outputs}

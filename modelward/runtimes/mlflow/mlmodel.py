"""Reading an ``MLmodel`` file and converting its signature into a modelward signature."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from modelward.errors import InvalidModelError, InvalidSignatureError
from modelward.paths import safe_join
from modelward.signatures import TYPES, ColumnSpec, Signature

MLMODEL = "MLmodel"


def read_mlmodel(folder: Path) -> dict[str, Any]:
    """The parsed ``MLmodel`` of an MLflow model folder, checked to be a mapping with flavors."""
    file = safe_join(folder, MLMODEL)
    if not file.is_file():
        raise InvalidModelError(
            f"{folder} has no {MLMODEL} file", hint="pass the folder MLflow wrote the model into"
        )
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidModelError(f"{MLMODEL} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidModelError(
            f"{MLMODEL} must be a YAML mapping of fields, got {type(data).__name__}"
        )
    flavors = data.get("flavors")
    if not isinstance(flavors, dict) or not flavors:
        raise InvalidModelError(f"{MLMODEL} has no 'flavors' mapping; it is not an MLflow model")
    return data


def convert_signature(raw: Any) -> Signature | None:
    """MLmodel's ``signature`` as a modelward signature; None when absent or tensor-based."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidModelError(f"{MLMODEL} field 'signature' must be a mapping, got {raw!r}")
    inputs = _columns(raw.get("inputs"), "signature.inputs", outputs=False)
    if not inputs:  # tensors or unnamed columns: the registry infers a signature from a sample
        return None
    outputs = _columns(raw.get("outputs"), "signature.outputs", outputs=True) or ()
    try:
        return Signature(inputs, outputs)
    except InvalidSignatureError as exc:
        raise InvalidModelError(f"{MLMODEL} field 'signature': {exc.message}") from exc


def _columns(value: Any, field: str, *, outputs: bool) -> tuple[ColumnSpec, ...] | None:
    specs = _schema_entries(value, field)
    if not specs or any(spec.get("type") == "tensor" for spec in specs):
        return None
    names: list[Any] = [spec.get("name") for spec in specs]
    if any(name is None for name in names):
        if not outputs:
            return None
        # The names modelward's runtimes give unnamed outputs (see base.output_frame).
        names = (
            ["prediction"] if len(specs) == 1 else [f"prediction_{i}" for i in range(len(specs))]
        )
    return tuple(
        _column(spec, name, f"{field}[{i}]")
        for i, (spec, name) in enumerate(zip(specs, names, strict=True))
    )


def _schema_entries(value: Any, field: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):  # MLflow stores each schema as a JSON string inside the YAML
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidModelError(f"{MLMODEL} field '{field}' is not valid JSON: {exc}") from exc
    if not isinstance(value, list) or not all(
        isinstance(spec, Mapping) and "type" in spec for spec in value
    ):
        raise InvalidModelError(
            f"{MLMODEL} field '{field}' must be a list of column specs with a 'type' each"
        )
    return value


def _column(spec: Mapping[str, Any], name: Any, field: str) -> ColumnSpec:
    kind = spec["type"]
    if not isinstance(name, str) or not name:
        raise InvalidModelError(f"{MLMODEL} field '{field}' has no usable column name: {name!r}")
    if kind not in TYPES:
        raise InvalidModelError(
            f"{MLMODEL} field '{field}' (column {name!r}) has type {kind!r}, "
            "which modelward does not know",
            hint=f"modelward column types: {', '.join(TYPES)}; "
            "log the model with such a signature, or with none",
        )
    required = spec.get("required", True)  # MLflow's default when the key is absent
    if not isinstance(required, bool):
        raise InvalidModelError(f"{MLMODEL} field '{field}': 'required' must be true or false")
    return ColumnSpec(name, kind, nullable=not required)

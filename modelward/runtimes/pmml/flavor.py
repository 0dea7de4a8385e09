"""The PMML flavor: recognises PMML files and imports those sklearn-pmml-model can score."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelward.errors import InvalidModelError, ModelwardError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.pmml.parsing import parse_pmml, root_name
from modelward.runtimes.pmml.reading import application, read_schema
from modelward.runtimes.pmml.runtime import PMML_FILE, PmmlRuntime
from modelward.runtimes.pmml.scoring import example_row


class PmmlFlavor(Flavor):
    name = "pmml"
    extra = "pmml"
    priority = 30
    packages = ("sklearn-pmml-model", "scikit-learn")

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        suffix = path.suffix.lower()
        return suffix == ".pmml" or (suffix == ".xml" and root_name(path) == "PMML")

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        if not path.is_file():
            raise InvalidModelError(f"{path.name} is not a file", hint="pass the .pmml file itself")
        data = path.read_bytes()
        root = parse_pmml(data, path.name)
        schema = read_schema(root, path.name)
        (dest / PMML_FILE).write_bytes(data)  # the bytes that were checked, not a second read
        config = {
            "format": "pmml",
            "file": PMML_FILE,
            "model_type": schema.model_type,
            "function": schema.function,
            "estimator": schema.estimator,
            "target": schema.target.name,
            "pmml_version": root.get("version"),
            "application": application(root),
        }
        runtime = PmmlRuntime(dest, config)
        try:  # it must load and score one row of valid values, or it is not registered
            runtime.load()
            runtime.predict(example_row(schema), {})
        except ModelwardError as exc:
            (dest / PMML_FILE).unlink()
            raise InvalidModelError(
                f"{path.name} is PMML ({schema.model_type}) but cannot be scored: {exc.message}",
                hint=exc.hint or "export the model with another PMML producer or another flavor",
            ) from exc
        return SavedModel(config, schema.signature())

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return PmmlRuntime(path, config)

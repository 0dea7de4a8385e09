"""The ``rules`` flavor: decision tables written in YAML, with DMN hit policies."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from modelward.errors import InvalidModelError
from modelward.runtimes.base import Flavor, Runtime, SavedModel, SaveOptions
from modelward.runtimes.rules.evaluate import evaluate
from modelward.runtimes.rules.table import DecisionTable, read_yaml

TABLE_FILE = "table.yaml"


def _is_table_mapping(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "rules" in obj and "inputs" in obj


class RulesFlavor(Flavor):
    name = "rules"
    packages = ("pyyaml",)
    priority = 10

    def detect(self, obj: Any) -> bool:
        return isinstance(obj, DecisionTable) or _is_table_mapping(obj)

    def sniff(self, path: Path) -> bool:
        if not (path.is_file() and path.suffix.lower() in (".yaml", ".yml")):
            return False
        try:
            return _is_table_mapping(read_yaml(path))
        except InvalidModelError:
            return False

    def save(self, obj: Any, dest: Path, options: SaveOptions) -> SavedModel:
        table = obj if isinstance(obj, DecisionTable) else DecisionTable.from_dict(obj)
        if not table.source:
            raise InvalidModelError(
                "this DecisionTable was built by hand, so there is no table text to save",
                hint="build it with DecisionTable.from_dict(...) or DecisionTable.from_yaml(...)",
            )
        try:
            text = yaml.safe_dump(_plain(table.source), sort_keys=False, allow_unicode=True)
        except yaml.YAMLError as exc:
            raise InvalidModelError(
                f"the decision table holds a value YAML cannot store: {exc}",
                hint="use plain numbers, strings, booleans, lists and mappings",
            ) from exc
        (dest / TABLE_FILE).write_text(text, encoding="utf-8")
        return _saved(table)

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        table = DecisionTable.from_yaml(path)
        shutil.copyfile(path, dest / TABLE_FILE)  # verbatim, so comments survive
        return _saved(table)

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return RulesRuntime(path, config)


def _saved(table: DecisionTable) -> SavedModel:
    config = {"file": TABLE_FILE, "hit_policy": table.hit_policy, "rules": len(table.rules)}
    if table.aggregation:
        config["aggregation"] = table.aggregation
    return SavedModel(config, signature=table.signature)


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and tuples turned into what ``yaml.safe_dump`` accepts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


class RulesRuntime(Runtime):
    """A decision table loaded from its folder."""

    def load(self) -> None:
        file = self.path / self.config.get("file", TABLE_FILE)
        self.table_ = DecisionTable.from_yaml(file)

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        return evaluate(self.table_, frame)

    def unload(self) -> None:
        del self.table_

    def metadata(self) -> dict[str, Any]:
        table = self.table_
        return {
            "framework": "rules",
            "name": table.name,
            "hit_policy": table.hit_policy,
            "aggregation": table.aggregation,
            "rules": len(table.rules),
            "inputs": [c.name for c in table.inputs],
            "outputs": [c.name for c in table.outputs],
        }

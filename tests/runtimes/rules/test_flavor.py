from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import modelward
from modelward.errors import InvalidInputError, InvalidModelError
from modelward.runtimes.base import SaveOptions
from modelward.runtimes.rules import DecisionTable, RulesFlavor, RulesRuntime

DEMO = Path(modelward.__file__).parent / "demo" / "credit_rules.yaml"
TABLE: dict[str, Any] = {
    "hit_policy": "FIRST",
    "inputs": [{"name": "x", "type": "double"}],
    "outputs": [{"name": "y", "type": "string"}],
    "rules": [{"when": {"x": "< 0"}, "then": {"y": "negative"}}, {"then": {"y": "other"}}],
}


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def loaded(folder: Path, config: dict[str, Any]) -> RulesRuntime:
    runtime = RulesFlavor().runtime(folder, config)
    assert isinstance(runtime, RulesRuntime)
    runtime.load()
    return runtime


def test_registered_as_an_entry_point() -> None:
    (found,) = [ep for ep in entry_points(group="modelward.flavors") if ep.name == "rules"]
    assert found.load() is RulesFlavor
    assert RulesFlavor.name == "rules" and RulesFlavor.priority == 10
    assert RulesFlavor.packages == ("pyyaml",)


def test_sniff(tmp_path: Path) -> None:
    flavor = RulesFlavor()
    assert flavor.sniff(write(tmp_path / "t.yaml", TABLE))
    assert flavor.sniff(write(tmp_path / "t.YML", TABLE))
    assert not flavor.sniff(write(tmp_path / "t.json", TABLE))
    assert not flavor.sniff(write(tmp_path / "other.yaml", {"rules": []}))
    assert not flavor.sniff(write(tmp_path / "list.yaml", [1, 2]))
    assert not flavor.sniff(write(tmp_path / "broken.yaml", "rules: [\n"))
    assert not flavor.sniff(tmp_path)


def test_detect() -> None:
    flavor = RulesFlavor()
    assert flavor.detect(DecisionTable.from_dict(TABLE))
    assert flavor.detect(TABLE)
    assert not flavor.detect({"rules": []})
    assert not flavor.detect([TABLE])


def test_import_copies_the_file_verbatim(tmp_path: Path) -> None:
    source = write(tmp_path / "table.yml", "# my table\n" + yaml.safe_dump(TABLE))
    dest = tmp_path / "dest"
    dest.mkdir()
    saved = RulesFlavor().import_path(source, dest, SaveOptions())
    assert saved.config == {"file": "table.yaml", "hit_policy": "FIRST", "rules": 2}
    assert (dest / "table.yaml").read_text() == source.read_text()
    assert saved.signature is not None and saved.signature.input_names == ["x"]
    runtime = loaded(dest, saved.config)
    out = runtime.predict(pd.DataFrame({"x": [-1.0, 1.0]}), {})
    assert out["y"].tolist() == ["negative", "other"]


def test_import_refuses_an_invalid_table(tmp_path: Path) -> None:
    source = write(tmp_path / "t.yaml", {**TABLE, "hit_policy": "UNIQUE"})
    with pytest.raises(InvalidModelError, match="rules 1 and 2 both match where x < 0"):
        RulesFlavor().import_path(source, tmp_path, SaveOptions())


@pytest.mark.parametrize("as_object", [True, False])
def test_save_round_trips(tmp_path: Path, as_object: bool) -> None:
    data = {**TABLE, "rules": [{"when": {"x": np.float64(0.5)}, "then": {"y": "half"}}]}
    obj = DecisionTable.from_dict(data) if as_object else data
    saved = RulesFlavor().save(obj, tmp_path, SaveOptions())
    assert saved.config["file"] == "table.yaml"
    assert yaml.safe_load((tmp_path / "table.yaml").read_text())["rules"][0]["when"] == {"x": 0.5}
    out = loaded(tmp_path, saved.config).predict(pd.DataFrame({"x": [0.5, 1.0]}), {})
    assert out["y"].tolist()[0] == "half" and pd.isna(out["y"].tolist()[1])


def test_save_refuses_an_invalid_dict(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelError, match="unknown hit_policy"):
        RulesFlavor().save({**TABLE, "hit_policy": "SOME"}, tmp_path, SaveOptions())


def test_save_refuses_a_table_without_its_source(tmp_path: Path) -> None:
    parsed = DecisionTable.from_dict(TABLE)
    by_hand = DecisionTable(parsed.inputs, parsed.outputs, parsed.rules)
    with pytest.raises(InvalidModelError, match="built by hand"):
        RulesFlavor().save(by_hand, tmp_path, SaveOptions())


def test_runtime_refuses_params_and_reports_metadata(tmp_path: Path) -> None:
    RulesFlavor().save(TABLE, tmp_path, SaveOptions())
    runtime = loaded(tmp_path, {"file": "table.yaml"})
    with pytest.raises(InvalidInputError, match="unknown prediction parameter"):
        runtime.predict(pd.DataFrame({"x": [1.0]}), {"proba": True})
    assert runtime.metadata() == {
        "framework": "rules",
        "name": None,
        "hit_policy": "FIRST",
        "aggregation": None,
        "rules": 2,
        "inputs": ["x"],
        "outputs": ["y"],
    }
    runtime.unload()
    assert not hasattr(runtime, "table_")


def test_load_validates_again(tmp_path: Path) -> None:
    write(tmp_path / "table.yaml", {**TABLE, "rules": []})
    with pytest.raises(InvalidModelError, match="'rules' must be a non-empty list"):
        loaded(tmp_path, {"file": "table.yaml"})


def test_demo_table_passes_validation_and_decides_sensibly(tmp_path: Path) -> None:
    flavor = RulesFlavor()
    assert flavor.sniff(DEMO)
    saved = flavor.import_path(DEMO, tmp_path, SaveOptions())
    assert saved.config["hit_policy"] == "UNIQUE"
    assert saved.signature is not None
    assert saved.signature.input_names == ["credit_score", "income", "employment", "existing_debt"]
    assert saved.signature.output_names == ["decision", "limit"]
    applicants = pd.DataFrame(
        [
            (520, 90_000.0, "employed", 0.0),
            (800, 120_000.0, "employed", 5_000.0),
            (760, 50_000.0, "retired", 0.0),
            (700, 40_000.0, "self_employed", 35_000.0),
            (650, 30_000.0, "employed", 1_000.0),
            (780, 200_000.0, "unemployed", 0.0),
            (690, 18_000.0, "employed", 0.0),
        ],
        columns=saved.signature.input_names,
    )
    out = loaded(tmp_path, saved.config).predict(applicants, {})
    assert out["decision"].tolist() == [
        "reject",
        "approve",
        "approve",
        "review",
        "approve",
        "reject",
        "review",
    ]
    assert out["limit"].tolist() == [0, 30_000, 15_000, 5_000, 2_500, 0, 1_000]
    saved.signature.validate(applicants)  # the demo rows fit the declared domain

"""Files that claim a native format but are not models; optional dependencies that are missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelward.client import Client
from modelward.errors import InvalidModelError, MissingDependencyError, ModelwardError
from modelward.runtimes.base import Flavor
from modelward.runtimes.flavors import get_flavor


@pytest.mark.parametrize(
    ("name", "content", "flavor"),
    [
        ("model.onnx", b"\x08\x07not an onnx graph", "onnx"),
        ("model.ubj", b'{"learner": broken', "xgboost"),
        ("model.txt", b"tree\nversion=v4\ngarbage", "lightgbm"),
        ("model.skops", b"PK\x03\x04garbage", "sklearn"),
    ],
)
def test_corrupt_native_files_are_refused_and_nothing_is_recorded(
    sqlite_client: Client, tmp_path: Path, name: str, content: bytes, flavor: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidModelError):
        sqlite_client.register_model(path, "m", flavor=flavor)
    assert sqlite_client.list() == []
    assert list(sqlite_client.registry.artifacts.digests()) == []


def test_a_missing_optional_package_names_the_extra() -> None:
    flavor: Flavor = get_flavor("xgboost")
    with pytest.raises(MissingDependencyError) as info:
        flavor.require("modelward_no_such_module")
    assert info.value.hint == "pip install 'modelward[xgboost]'"


def test_a_broken_plugin_does_not_take_the_others_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    from modelward.runtimes import flavors

    real = flavors.entry_points

    def with_broken(group: str) -> list[EntryPoint]:
        broken = EntryPoint("broken", "modelward_missing_plugin:Flavor", group)
        return [*real(group=group), broken]

    monkeypatch.setattr(flavors, "entry_points", with_broken)
    flavors._discover.cache_clear()
    try:
        assert "sklearn" in flavors.available_flavors()
        assert "broken" in flavors.broken_flavors()
        with pytest.raises(ModelwardError, match="failed to load"):
            flavors.get_flavor("broken")
    finally:
        monkeypatch.undo()
        flavors._discover.cache_clear()

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from modelward.errors import (
    EXIT_CONFLICT,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_USAGE,
)
from tests.support.cli import Run


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    sio.dump(model, tmp_path / "lr.skops")
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    sio.dump(tree, tmp_path / "tree.skops")
    (tmp_path / "tree.pkl").write_bytes(pickle.dumps(tree))
    x.head(20).to_csv(tmp_path / "sample.csv", index=False)
    x.to_parquet(tmp_path / "train.parquet")
    return {
        "model": tmp_path / "lr.skops",
        "tree": tmp_path / "tree.skops",
        "pickle": tmp_path / "tree.pkl",
        "sample": tmp_path / "sample.csv",
        "train": tmp_path / "train.parquet",
    }


def register(
    run: Run, files: dict[str, Path], name: str = "iris", *extra: str
) -> dict[str, object]:
    result = run(
        "models",
        "register",
        str(files["model"]),
        "--name",
        name,
        "--sample",
        str(files["sample"]),
        "--training-data",
        str(files["train"]),
        "--metric",
        "accuracy=0.97",
        "--param",
        "max_depth=3",
        "--tag",
        "team=risk",
        "--description",
        "a tree",
        "--json",
        *extra,
    )
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def test_register_show_list_versions(run: Run, files: dict[str, Path]) -> None:
    v = register(run, files)
    assert {k: v[k] for k in ("name", "version", "flavor")} == {
        "name": "iris",
        "version": 1,
        "flavor": "sklearn",
    }
    assert (
        len(str(v["digest"])) == 64
        and v["metrics"] == {"accuracy": 0.97}
        and v["params"] == {"max_depth": 3}
    )
    assert v["lineage"]["datasets"][0]["fingerprint"].startswith("sha256:")  # type: ignore[index]
    register(run, files)
    shown = json.loads(run("models", "show", "models:/iris/1", "--json").out)
    assert (shown["version"], shown["digest"]) == (1, v["digest"])
    listed = json.loads(run("models", "list", "--json").out)
    assert [(m["name"], m["latest_version"]) for m in listed] == [("iris", 2)]
    versions = json.loads(run("models", "versions", "iris", "--json").out)
    assert [x["version"] for x in versions] == [2, 1]
    assert all({"name", "version", "flavor", "digest"} <= set(x) for x in versions)
    table = run("models", "show", "iris")
    assert table.code == 0 and "iris/2" in table.out and "sepal length (cm):double" in table.out


def test_alias_history_archive_delete(run: Run, files: dict[str, Path]) -> None:
    register(run, files, "iris", "--risk-tier", "low")  # champion auto-approves low risk
    register(run, files)
    assert run("models", "alias", "iris", "1", "champion").code == 0
    moved = run("models", "alias", "iris", "2", "champion")
    assert "from 1 → 2" in moved.out
    assert json.loads(run("models", "aliases", "iris", "--json").out) == {"champion": 2}
    history = json.loads(run("models", "aliases", "iris", "--history", "--json").out)
    assert [(h["from_version"], h["to_version"], h["actor"]) for h in history] == [
        (None, 1, "tester"),
        (1, 2, "tester"),
    ]
    assert json.loads(run("models", "show", "iris@champion", "--json").out)["version"] == 2
    refused = run("models", "delete", "iris/2")
    assert refused.code == EXIT_CONFLICT and "champion" in refused.err
    assert run("models", "archive", "iris/1").code == 0
    assert [x["version"] for x in json.loads(run("models", "versions", "iris", "--json").out)] == [
        2
    ]
    assert [
        x["version"] for x in json.loads(run("models", "versions", "iris", "--all", "--json").out)
    ] == [2, 1]
    assert run("models", "restore", "iris/1").code == 0
    assert run("models", "delete", "iris/1").code == 0
    assert run("models", "unalias", "iris", "champion").code == 0
    assert run("models", "delete", "iris", input_text="n\n").code == EXIT_INVALID
    assert run("models", "delete", "iris", "--yes").code == 0
    assert json.loads(run("models", "list", "--json").out) == []


def test_predict_streams_every_format_in_order(
    run: Run, files: dict[str, Path], tmp_path: Path
) -> None:
    register(run, files)
    x, _ = load_iris(return_X_y=True, as_frame=True)
    x = x.assign(id=range(len(x)))
    x.to_csv(tmp_path / "in.csv", index=False)
    x.to_parquet(tmp_path / "in.parquet")
    x.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    expected = sio.load(files["model"], trusted=[]).predict(x.drop(columns="id"))
    for fmt in ("csv", "parquet", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        result = run(
            "predict",
            "iris",
            "--input",
            str(tmp_path / f"in.{fmt}"),
            "--output",
            str(out),
            "--keep",
            "id",
            "--chunk-rows",
            "40",
            "--quiet",
        )
        assert result.code == 0, result.err
        got = {"csv": pd.read_csv, "parquet": pd.read_parquet}.get(
            fmt, lambda p: pd.read_json(p, lines=True)
        )(out)
        assert got["id"].tolist() == list(range(150))
        assert got["prediction"].tolist() == expected.tolist()


def test_predict_bad_input_leaves_no_output(
    run: Run, files: dict[str, Path], tmp_path: Path
) -> None:
    register(run, files)
    x, _ = load_iris(return_X_y=True, as_frame=True)
    bad = x.astype({"petal width (cm)": object})
    bad.loc[120, "petal width (cm)"] = "broken"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    out = tmp_path / "out.csv"
    result = run(
        "predict",
        "iris",
        "--input",
        str(tmp_path / "bad.csv"),
        "--output",
        str(out),
        "--chunk-rows",
        "50",
        "-q",
    )
    assert result.code == EXIT_INVALID
    assert "row 120" in result.err and "petal width (cm)" in result.err
    assert not out.exists() and list(tmp_path.glob(".out.csv*")) == []
    unknown = run("predict", "iris", "--input", str(tmp_path / "bad.txt"), "--output", str(out))
    assert unknown.code == EXIT_INVALID and "no such file" in unknown.err


def test_exit_codes(run: Run, files: dict[str, Path]) -> None:
    missing = run("models", "show", "nothing")
    assert missing.code == EXIT_NOT_FOUND and "error: model 'nothing' not found" in missing.err
    assert "Traceback" not in missing.err
    refused = run("models", "register", str(files["pickle"]), "--name", "p")
    assert refused.code == EXIT_REFUSED and "--trust-pickle" in refused.err
    assert (
        run("models", "register", str(files["pickle"]), "--name", "p", "--trust-pickle").code == 0
    )
    # skops itself does not vouch for tree internals from unknown files (out-of-bounds reads)
    tree = run("models", "register", str(files["tree"]), "--name", "t")
    assert tree.code == EXIT_REFUSED and "sklearn.tree._tree.Tree" in tree.err
    assert run("models", "register", str(files["tree"]), "--name", "t", "--trust-pickle").code == 0
    assert (
        run("models", "register", str(files["model"]), "--name", "x", "--flavor", "nope").code
        == EXIT_INVALID
    )
    assert run("models", "register", str(files["model"]), "--name", "../x").code == EXIT_INVALID
    assert run("models", "show", "a/b/c").code == EXIT_INVALID
    assert (
        run("models", "register", str(files["model"]), "--name", "x", "--metric", "auc").code
        == EXIT_INVALID
    )
    assert run("models", "frobnicate").code == EXIT_USAGE
    assert run("models", "alias", "p", "one", "champion").code == EXIT_USAGE

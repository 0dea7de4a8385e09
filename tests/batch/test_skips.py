"""``--on-error skip``: bad rows of every kind are left out and reported; the rest is scored."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.batch import files
from modelward.batch.skips import score_skipping
from modelward.errors import EXIT_INVALID, ModelFailedError
from tests.support.cli import Run

MODEL_FAILED = "scorer:Scorer.predict failed: ValueError('unlucky 13')"


def good_rows(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(n),
            "x": [float(i % 10) for i in range(n)],
            "colour": ["red", "green"] * (n // 2) + ["red"] * (n % 2),
        }
    )


def bad_rows() -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """Twenty rows with one bad row of each kind; the reasons the report must give for them."""
    frame = good_rows(20).astype({"x": object})
    frame.loc[2, "x"] = None
    frame.loc[5, "x"] = -3.0
    frame.loc[8, "x"] = 2000.0
    frame.loc[11, "x"] = "abc"
    frame.loc[14, "colour"] = "blue"
    frame.loc[16, ["x", "colour"]] = [-1.0, "purple"]
    frame.loc[18, "x"] = 13.0
    return frame, {
        2: ["column 'x': null value"],
        5: ["column 'x': -3 below the minimum 0"],
        8: ["column 'x': 2000 above the maximum 1000"],
        11: ["column 'x': expected double, got 'abc'"],
        14: ["column 'colour': 'blue' outside the allowed categories"],
        16: [
            "column 'x': -1 below the minimum 0",
            "column 'colour': 'purple' outside the allowed categories",
        ],
        18: [MODEL_FAILED],
    }


def report(path: Path) -> dict[int, list[str]]:
    return {r["row"]: r["reasons"] for r in map(json.loads, path.read_text().splitlines())}


def predict(run: Run, source: Path, output: Path, *options: str) -> Any:
    return run("predict", "scorer", "-i", str(source), "-o", str(output), "-q", *options)


def test_bad_rows_of_every_kind_are_skipped_with_their_reasons(
    run: Run, scorer: str, tmp_path: Path
) -> None:
    frame, reasons = bad_rows()
    frame.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    out = tmp_path / "out.csv"
    result = predict(
        run, tmp_path / "in.jsonl", out, "--keep", "id", "--on-error", "skip", "--chunk-rows", "8"
    )
    assert result.code == 0, result.err
    skipped = tmp_path / "out.csv.skipped.jsonl"
    assert f"skipped 7 rows; reasons in {skipped}" in result.out
    assert report(skipped) == reasons
    got = pd.read_csv(out)
    kept = [i for i in range(20) if i not in reasons]
    assert got["id"].tolist() == kept
    assert got["prediction"].tolist() == [2 * (i % 10) for i in kept]


def test_fail_mode_is_unchanged(run: Run, scorer: str, tmp_path: Path) -> None:
    frame, _ = bad_rows()
    frame.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    out = tmp_path / "out.csv"
    result = predict(run, tmp_path / "in.jsonl", out, "--chunk-rows", "8")
    assert result.code == EXIT_INVALID
    assert "column 'x': 1 null value(s) but the column is not nullable (row 2)" in result.err
    assert "below the minimum 0 (e.g. -3; row 5)" in result.err
    assert list(tmp_path.glob("out*")) == [] and list(tmp_path.glob(".out*")) == []


def test_a_missing_column_stops_even_a_skipping_run(run: Run, scorer: str, tmp_path: Path) -> None:
    good_rows(10).drop(columns="colour").to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    result = predict(run, tmp_path / "in.parquet", out, "--on-error", "skip")
    assert result.code == EXIT_INVALID
    assert "missing column: 'colour'" in result.err
    assert "leaves out rows with bad values, not missing columns" in result.err
    assert list(tmp_path.glob("out*")) == [] and list(tmp_path.glob(".out*")) == []


def test_a_typo_after_the_first_csv_block_is_a_bad_row_not_an_unreadable_file(
    run: Run, scorer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "CSV_BLOCK_BYTES", 256)  # column types guessed from ~20 rows
    frame = good_rows(200).astype({"x": object})
    frame.loc[150, "x"] = "1,5"
    frame.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.parquet"
    failed = predict(run, tmp_path / "in.csv", out, "--chunk-rows", "64")
    assert failed.code == EXIT_INVALID
    assert "column 'x': expected double, got '1,5' (row 150)" in failed.err
    skipped = predict(
        run,
        tmp_path / "in.csv",
        out,
        "--chunk-rows",
        "64",
        "--on-error",
        "skip",
        "--skipped",
        str(tmp_path / "bad.jsonl"),
    )
    assert skipped.code == 0, skipped.err
    assert report(tmp_path / "bad.jsonl") == {150: ["column 'x': expected double, got '1,5'"]}
    assert len(pd.read_parquet(out)) == 199


def test_a_clean_skipping_run_writes_an_empty_report(run: Run, scorer: str, tmp_path: Path) -> None:
    good_rows(10).to_parquet(tmp_path / "in.parquet")
    stale = tmp_path / "out.parquet.skipped.jsonl"
    stale.write_text('{"row": 1, "reasons": ["from an older run"]}\n')
    result = predict(run, tmp_path / "in.parquet", tmp_path / "out.parquet", "--on-error", "skip")
    assert result.code == 0, result.err
    assert "skipped 0 rows" in result.out and stale.read_text() == ""
    lost = predict(run, tmp_path / "in.parquet", tmp_path / "o.csv", "--skipped", str(stale))
    assert lost.code == EXIT_INVALID and "needs --on-error skip" in lost.err


class CountingModel:
    """Stands in for a loaded model: fails on rows whose x is negative, counts predict calls."""

    def __init__(self) -> None:
        self.version = SimpleNamespace(signature=None)
        self.calls = 0

    def score(self, frame: pd.DataFrame, params: Any, *, row_offset: int = 0) -> pd.DataFrame:
        self.calls += 1
        if (frame["x"] < 0).any():
            raise ModelFailedError(f"negative x in {len(frame)} rows")
        return pd.DataFrame({"prediction": frame["x"] * 2})


def test_bisection_finds_failing_rows_in_a_logarithmic_number_of_calls() -> None:
    frame = pd.DataFrame({"x": np.arange(1024, dtype="float64")})
    frame.loc[700, "x"] = -1.0
    model: Any = CountingModel()
    predictions, kept, skipped = score_skipping(model, frame, {}, offset=5000)
    assert skipped == {5700: ["negative x in 1 rows"]}
    assert model.calls <= 1 + 2 * 10
    assert kept.tolist() == [i for i in range(1024) if i != 700]
    assert predictions["prediction"].tolist() == [2.0 * i for i in kept]

    frame.loc[[3, 4, 900], "x"] = -1.0
    model = CountingModel()
    _, kept, skipped = score_skipping(model, frame, {}, offset=0)
    assert sorted(skipped) == [3, 4, 700, 900] and len(kept) == 1020


def test_a_model_that_fails_everywhere_is_an_error_not_a_skip() -> None:
    frame = pd.DataFrame({"x": -np.ones(5000)})
    model: Any = CountingModel()
    with pytest.raises(ModelFailedError, match="more than 1000 rows"):
        score_skipping(model, frame, {}, offset=0)
    assert model.calls < 5000

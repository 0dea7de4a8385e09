"""`modelward drift` on real CSV and Parquet files, and every bad input it must explain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelward.errors import EXIT_INVALID
from tests.support.cli import Run

N = 3000


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A reference, a current file with two shifted columns, and one like the reference."""
    rng = np.random.default_rng(3)

    def frame(shift: float, cities: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + shift * 10, 10, N),
                "income": rng.lognormal(10, 0.5, N),
                "city": rng.choice(cities, N),
                "score": rng.uniform(0, 1, N),
            }
        )

    paths = {
        "ref": tmp_path / "ref.parquet",
        "cur": tmp_path / "cur.parquet",
        "same": tmp_path / "same.csv",
    }
    frame(0, ["paris", "rome"]).to_parquet(paths["ref"])
    pq.write_table(
        pa.Table.from_pandas(frame(1, ["paris", "oslo"])), paths["cur"], row_group_size=500
    )
    frame(0, ["paris", "rome"]).to_csv(paths["same"], index=False)
    return paths


def test_json_names_the_drifted_columns_and_exits_zero(run: Run, files: dict[str, Path]) -> None:
    result = run(
        "drift", "--reference", str(files["ref"]), "--current", str(files["cur"]), "--json"
    )
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert body["dataset_drifted"] is True and body["drifted_columns"] == ["age", "city"]
    assert body["reference_rows"] == body["current_rows"] == N
    age = next(c for c in body["columns"] if c["column"] == "age")
    assert set(age) >= {"column", "type", "test", "statistic", "p_value", "distance", "threshold"}
    assert (age["type"], age["test"], age["p_value"]) == ("numeric", "wasserstein", None)


def test_no_drift_is_also_exit_zero_and_the_table_says_so(run: Run, files: dict[str, Path]) -> None:
    result = run("drift", "-r", str(files["ref"]), "-c", str(files["same"]))
    assert result.code == 0, result.err
    assert "no drift" in result.out and "0 of 4 tested columns drifted" in result.out


def test_columns_overrides_and_share(run: Run, files: dict[str, Path]) -> None:
    args = ["drift", "-r", str(files["ref"]), "-c", str(files["cur"]), "--json"]
    picked = json.loads(
        run(*args, "--columns", "age,score", "--test", "age=psi", "--threshold", "age=100").out
    )
    assert [c["column"] for c in picked["columns"]] == ["age", "score"]
    age = picked["columns"][0]
    assert (age["test"], age["threshold"], age["drifted"]) == ("psi", 100.0, False)
    assert json.loads(run(*args, "--share", "0.9").out)["dataset_drifted"] is False


def test_html_report_is_self_contained(run: Run, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "drift.html"
    result = run("drift", "-r", str(files["ref"]), "-c", str(files["cur"]), "--report", str(out))
    assert result.code == 0 and "report written" in result.out
    page = out.read_text()
    assert page.count("<svg") == 4 and "Dataset drift detected" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    raw_age = f"{pd.read_parquet(files['ref'])['age'].iloc[0]!r}"
    assert raw_age not in page  # no raw rows, only shares


def test_csv_with_a_typo_counts_a_type_violation(run: Run, tmp_path: Path) -> None:
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    values = np.random.default_rng(5).uniform(1000, 2000, 400_000)  # ~7 MB: over one block
    pd.DataFrame({"n": values}).to_csv(ref, index=False)
    bad = pd.DataFrame({"n": values.astype(object)})
    bad.loc[len(bad) - 1, "n"] = "ninety"  # past the first block whose types pyarrow guesses
    bad.to_csv(cur, index=False)
    result = run("drift", "-r", str(ref), "-c", str(cur), "--json")
    assert result.code == 0, result.err
    column = json.loads(result.out)["columns"][0]
    assert column["note"] == "1 value(s) of the wrong type" and column["drifted"] is False


def test_an_empty_current_file_is_insufficient_data(
    run: Run, files: dict[str, Path], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("age,income,city,score\n")
    body = json.loads(run("drift", "-r", str(files["ref"]), "-c", str(empty), "--json").out)
    assert body["dataset_drifted"] is False and body["tested_columns"] == 0
    assert all("insufficient data" in c["note"] for c in body["columns"])


def _error(run: Run, *args: str) -> str:
    result = run("drift", *args)
    assert result.code == EXIT_INVALID, (result.code, result.out, result.err)
    assert "hint:" in result.err or "no such file" in result.err
    return result.err


def test_bad_inputs_explain_themselves(run: Run, files: dict[str, Path], tmp_path: Path) -> None:
    ref, cur = str(files["ref"]), str(files["cur"])
    assert "no such file" in _error(run, "-r", str(tmp_path / "nope.parquet"), "-c", cur)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"this is not parquet at all")
    assert "cannot read corrupt.parquet" in _error(run, "-r", ref, "-c", str(corrupt))
    other = tmp_path / "other.csv"
    other.write_text("x,y\n1,2\n")
    assert "no column in common" in _error(run, "-r", ref, "-c", str(other))
    err = _error(run, "-r", ref, "-c", cur, "--columns", "age,height")
    assert "'height'" in err and "columns in both: age" in err
    err = _error(run, "-r", ref, "-c", cur, "--test", "age=kolmogorov")
    assert "unknown drift test 'kolmogorov'" in err and "wasserstein" in err
    assert "not a number" in _error(run, "-r", ref, "-c", cur, "--threshold", "age=high")
    assert "KEY=VALUE" in _error(run, "-r", ref, "-c", cur, "--test", "psi")
    assert "does not apply" in _error(run, "-r", ref, "-c", cur, "--test", "city=ks")
    nowhere = str(tmp_path / "missing" / "drift.html")
    assert "does not exist" in _error(run, "-r", ref, "-c", cur, "--report", nowhere)
    text = tmp_path / "data.txt"
    text.write_text("age\n1\n")
    assert "CSV and Parquet" in _error(run, "-r", str(text), "-c", cur)

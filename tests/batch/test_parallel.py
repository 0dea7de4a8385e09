"""``--workers N``: chunks scored in worker processes, written in input order, errors intact."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from modelward import errors
from modelward.batch import files
from modelward.batch.predict import predict_file
from modelward.client import Client
from tests.batch.test_skips import bad_rows, good_rows, report
from tests.support.cli import Run


@pytest.fixture
def iris(tmp_path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """An iris logistic regression registered as ``iris``; 600 input rows and its own answers."""
    x, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    client = Client()
    client.register_model(model, "iris", input_example=x.head())
    client.close()
    rows = pd.concat([x] * 4, ignore_index=True).sample(frac=1, random_state=0)
    return rows.assign(id=range(len(rows))), pd.Series(model.predict(rows))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_two_workers_keep_the_input_order(
    run: Run,
    iris: tuple[pd.DataFrame, pd.Series],
    tmp_path: Path,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "CSV_BLOCK_BYTES", 1024)  # many CSV chunks, not one
    rows, expected = iris
    source = tmp_path / f"in.{fmt}"
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    rows.to_csv(source, index=False) if fmt == "csv" else rows.to_parquet(source)
    outputs = []
    for workers in ("2", "1"):
        out = tmp_path / f"out{workers}.{fmt}"
        args = ("-i", str(source), "-o", str(out), "--keep", "id", "--chunk-rows", "37", "-q")
        result = run("predict", "iris", *args, "--workers", workers)
        assert result.code == 0, result.err
        outputs.append(read(out))
    pd.testing.assert_frame_equal(outputs[0], outputs[1])
    assert outputs[0]["id"].tolist() == list(range(600))
    assert outputs[0]["prediction"].tolist() == expected.tolist()


def test_workers_skip_report_progress_and_errors_match_one_process(
    run: Run, scorer: str, tmp_path: Path
) -> None:
    frame, reasons = bad_rows()
    frame.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    progress: list[tuple[int, float]] = []
    with Client().load_model(scorer) as model:
        result = predict_file(
            model,
            tmp_path / "in.jsonl",
            tmp_path / "out.jsonl",
            chunk_rows=4,
            keep_columns=["id"],
            on_error="skip",
            workers=2,
            on_progress=lambda rows, done: progress.append((rows, done)),
        )
    assert (result.rows_in, result.rows_out, result.rows_skipped) == (20, 13, 7)
    assert report(tmp_path / "out.jsonl.skipped.jsonl") == reasons
    got = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert got["id"].tolist() == [i for i in range(20) if i not in reasons]
    assert [rows for rows, _ in progress] == [4, 8, 12, 16, 20] and progress[-1][1] == 1.0

    failures = [
        run("predict", scorer, "-i", str(tmp_path / "in.jsonl"), "-o", str(out), "-q", *extra)
        for out, extra in ((tmp_path / "a.csv", ()), (tmp_path / "b.csv", ("--workers", "2")))
    ]
    assert failures[0].code == failures[1].code == errors.EXIT_INVALID
    assert failures[0].err == failures[1].err and "(row 11)" in failures[1].err


def test_a_dying_worker_is_a_clear_error_with_nothing_written(
    run: Run, scorer: str, tmp_path: Path
) -> None:
    frame = good_rows(40)
    frame.loc[25, "x"] = 666.0  # the model calls os._exit(1) on this row
    frame.to_parquet(tmp_path / "in.parquet")
    result = run(
        "predict",
        scorer,
        "-i",
        str(tmp_path / "in.parquet"),
        "-o",
        str(tmp_path / "out.csv"),
        "--chunk-rows",
        "5",
        "--workers",
        "2",
        "--on-error",
        "skip",
        "-q",
    )
    assert result.code == errors.EXIT_UNAVAILABLE
    assert "a worker process scoring scorer/1 died; nothing was written" in result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["code", "in.parquet", "mwhome"]


@pytest.mark.parametrize("cls", errors.all_error_classes(), ids=lambda c: c.code)
def test_every_error_survives_the_trip_from_a_worker(cls: type[errors.ModelwardError]) -> None:
    special: dict[type[errors.ModelwardError], errors.ModelwardError] = {
        errors.SignatureViolationError: errors.SignatureViolationError(["column 'x': 1 null"]),
        errors.PermissionDeniedError: errors.PermissionDeniedError("models:write", "no"),
        errors.AuditChainBrokenError: errors.AuditChainBrokenError(7, "hash differs"),
    }
    error = special.get(cls) or cls("it broke", hint="do this")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert (back.message, back.hint, back.to_dict()) == (error.message, error.hint, error.to_dict())


def test_a_worker_that_cannot_load_the_model_raises_the_registry_error(
    scorer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_rows(10).to_parquet(tmp_path / "in.parquet")
    with Client().load_model(scorer) as model:
        monkeypatch.setenv("MODELWARD_HOME", str(tmp_path / "elsewhere"))  # workers see no model
        with pytest.raises(errors.NotFoundError, match="scorer"):
            predict_file(model, tmp_path / "in.parquet", tmp_path / "out.parquet", workers=2)
    assert not (tmp_path / "out.parquet").exists() and list(tmp_path.glob(".out*")) == []


def test_the_sdk_scores_a_file_like_the_cli(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from modelward.client import Client

    x, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(x, y)
    client = Client()
    client.register_model(model, "iris", input_example=x.head())
    x.to_parquet(tmp_path / "in.parquet")
    result = client.predict_file(
        "iris", tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_rows=40
    )
    assert result.rows_in == 150
    assert (
        pd.read_parquet(tmp_path / "out.parquet")["prediction"].tolist()
        == model.predict(x).tolist()
    )
    client.close()

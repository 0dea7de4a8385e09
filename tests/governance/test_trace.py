"""Track-back from a request id through the inference log to data, validation and approvals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from modelward.client import Client
from modelward.errors import EXIT_NOT_FOUND, InvalidInputError, NotFoundError
from modelward.governance.trace import NO_LABEL, trace_request
from modelward.monitoring.inference_log import InferenceLog, inference_root
from modelward.monitoring.records import InferenceRecord
from tests.governance.test_lineage import iris, record_review, register_iris
from tests.support.cli import Run

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def record(
    request_id: str, model: str = "iris", version: int = 1, rows: int = 2
) -> InferenceRecord:
    x, _ = iris()
    inputs = {c: x[c].to_numpy()[:rows] for c in x.columns}
    return InferenceRecord(
        request_id=request_id,
        time=T0,
        model=model,
        version=version,
        status=200,
        latency_ms=2.5,
        inputs=inputs,
        outputs={"prediction": np.zeros(rows, dtype=np.int64)},
    )


def write_log(home: Path, *records: InferenceRecord) -> None:
    log = InferenceLog(inference_root(home))
    log.start()
    for r in records:
        log.record(r)
    log.close()


def test_trace_follows_a_request_back(client: Client, mw_home: Path, tmp_path: Path) -> None:
    v = register_iris(client, tmp_path)
    record_review(client, v)
    write_log(mw_home, record("req-1"), record("req-2", rows=1), record("other", model="fraud"))
    found = trace_request(client, "req-1")
    assert found["request_id"] == "req-1"
    (hop,) = found["records"]
    inference = hop["inference"]
    assert (inference["model"], inference["version"], inference["status"]) == ("iris", 1, 200)
    assert inference["time"].startswith("2024-05-01T12:00:00")
    assert [r["row"] for r in inference["rows"]] == [0, 1]
    assert inference["rows"][0]["inputs"]["sepal length (cm)"] == 5.1
    assert inference["rows"][0]["outputs"] == {"prediction": 0}
    assert hop["model_version"]["ref"] == "iris/1" and hop["artifact_digest"] == v.digest
    assert hop["training_data"][0]["location"].endswith("train.parquet")
    assert hop["validation_reports"][0]["passed"] is True
    assert [(a["actor"], a["decision"]) for a in hop["approvals"]] == [("rita", "approve")]
    assert found["label"] is None and found["label_note"] == NO_LABEL
    import pandas as pd

    from modelward.monitoring.labels import add_labels

    add_labels(mw_home, "iris", pd.DataFrame({"request_id": ["req-1", "req-1"], "label": [2, 1]}))
    labelled = trace_request(client, "req-1")
    assert labelled["label_note"] is None
    assert [(x["model"], x["row"], x["label"]) for x in labelled["label"]] == [("iris", 0, 1)]


def test_a_shadowed_request_traces_both_versions(
    sqlite_client: Client, mw_home: Path, tmp_path: Path
) -> None:
    register_iris(sqlite_client, tmp_path)
    register_iris(sqlite_client, tmp_path)
    write_log(mw_home, record("r", version=1), record("r", version=2), record("r", version=7))
    hops = trace_request(sqlite_client, "r")["records"]
    assert [h["inference"]["version"] for h in hops] == [1, 2, 7]
    assert hops[2]["model_version"] is None
    assert hops[2]["note"] == "iris/7 is no longer in the registry"


def test_unknown_ids_and_an_empty_log(sqlite_client: Client, mw_home: Path, tmp_path: Path) -> None:
    register_iris(sqlite_client, tmp_path)
    with pytest.raises(NotFoundError, match="no inference records yet"):
        trace_request(sqlite_client, "req-1")
    write_log(mw_home, record("req-1"))
    with pytest.raises(NotFoundError, match="no inference record has request id 'req-2'"):
        trace_request(sqlite_client, "req-2")
    with pytest.raises(InvalidInputError):
        trace_request(sqlite_client, "  ")


INJECTIONS = [
    "x' OR '1'='1",
    "req-1' --",
    "'; DROP TABLE inference; --",
    "req-%",
    "req-_",
    "') UNION SELECT * FROM read_csv('/etc/passwd') --",
    "req-1\x00",
]


@pytest.mark.parametrize("request_id", INJECTIONS)
def test_sql_looking_ids_are_just_ids(
    sqlite_client: Client, mw_home: Path, tmp_path: Path, request_id: str
) -> None:
    register_iris(sqlite_client, tmp_path)
    write_log(mw_home, record("req-1"), record('it\'s "quoted" ✓'))
    with pytest.raises(NotFoundError, match="no inference record has request id"):
        trace_request(sqlite_client, request_id)
    assert trace_request(sqlite_client, "req-1")["records"]  # the log is still there
    quoted = trace_request(sqlite_client, 'it\'s "quoted" ✓')
    assert quoted["records"][0]["inference"]["request_id"] == 'it\'s "quoted" ✓'


def test_cli(sqlite_client: Client, run: Run, mw_home: Path, tmp_path: Path) -> None:
    v = register_iris(sqlite_client, tmp_path)
    record_review(sqlite_client, v)
    write_log(mw_home, record("req-1"))
    result = run("trace", "req-1")
    assert result.code == 0, result.err
    for expected in ("iris/1", v.digest, "train.parquet", "passed", "rita", NO_LABEL):
        assert expected in result.out
    as_json = json.loads(run("trace", "req-1", "--json").out)
    assert as_json["records"][0]["artifact_digest"] == v.digest
    missing = run("trace", "nope")
    assert missing.code == EXIT_NOT_FOUND and "nope" in missing.err

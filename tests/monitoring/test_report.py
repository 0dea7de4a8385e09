"""The monitoring report: its data per bucket from a real log and store, and its HTML page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.client import Client
from modelward.errors import InvalidInputError, ModelNotFoundError, VersionNotFoundError
from modelward.monitoring.evaluate import MetricContext, provider_for
from modelward.monitoring.labels import add_labels
from modelward.monitoring.monitors import monitors_path
from modelward.monitoring.performance import performance
from modelward.monitoring.report import bucket_spans, build_report, write_report
from modelward.monitoring.report_html import render, write_atomic
from modelward.monitoring.resources import ResourceLog, resource_summary
from modelward.runtimes.python import PythonModel
from tests.monitoring.test_resources import write_requests
from tests.monitoring.windowed import HOUR0, population, register, traffic

NOW = HOUR0 + timedelta(minutes=30)  # buckets end at HOUR0 + 1h
STABLE, SHIFTED = HOUR0 - timedelta(days=5), HOUR0 - timedelta(days=2)
NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def build(client: Client, window: str = "7d", **options: Any) -> dict[str, Any]:
    registry = client.registry
    return build_report(
        client.settings, registry.store, registry.artifacts, "loans", window, now=NOW, **options
    )  # type: ignore[arg-type]


def bucket_of(report: dict[str, Any], moment: datetime) -> int:
    (index,) = [
        i
        for i, b in enumerate(report["buckets"])
        if datetime.fromisoformat(b["start"]) <= moment < datetime.fromisoformat(b["end"])
    ]
    return index


def provided(client: Client, metric: str, start: str, end: str) -> float | None:
    """What the monitors' own provider says for the same span (a cross-check)."""
    provider = provider_for(metric)
    assert provider is not None
    begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
    ctx = MetricContext(
        client.settings.home, client.settings, client.registry.store,  # type: ignore[arg-type]
        "loans", None, begin, finish, NOW,
    )  # fmt: skip
    return provider(ctx, metric).value


def test_buckets_end_on_the_next_whole_hour() -> None:
    end = datetime(2026, 11, 20, 14, 23, tzinfo=UTC)
    spans = bucket_spans(end - timedelta(days=7), end, None)
    assert len(spans) == 7 and spans[-1][1] == datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert all(b - a == timedelta(days=1) for a, b in spans)
    hourly = bucket_spans(end - timedelta(days=1), end, None)
    assert len(hourly) == 24 and hourly[0][0] == datetime(2026, 11, 19, 15, tzinfo=UTC)
    exact = datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert bucket_spans(exact - timedelta(hours=6), exact, "2h")[-1][1] == exact


@pytest.mark.parametrize(
    ("window", "step", "message"),
    [
        ("7d", "90m", "whole number of hours"),
        ("30d", "1h", "more than 168"),
        ("soon", None, "not a duration"),
    ],
)
def test_bad_steps_and_windows_are_refused(window: str, step: str | None, message: str) -> None:
    from modelward.monitoring.windows import parse_window

    with pytest.raises(InvalidInputError, match=message):
        bucket_spans(*parse_window(window, now=NOW), step)


def test_shifted_traffic_drifts_in_its_bucket_only(client: Client, tmp_path: Path) -> None:
    register(client, tmp_path)
    home = client.settings.home
    traffic(home, population(2000, seed=7), hour=STABLE, prefix="s")
    traffic(home, population(2000, shift=15, seed=8), hour=SHIFTED, prefix="d")
    report = build(client)
    assert report["step"] == "1d" and len(report["buckets"]) == 7 and report["versions"] == [1]
    stable, shifted = bucket_of(report, STABLE), bucket_of(report, SHIFTED)
    age = report["drift"]["columns"]["age"]
    assert age["drifted"][shifted] is True and age["drifted"][stable] is False
    assert age["direction"] == "above" and age["scores"][shifted] > age["threshold"]
    span = report["buckets"][shifted]
    assert age["scores"][shifted] == pytest.approx(
        provided(client, "drift.score.age", span["start"], span["end"])
    )
    quiet = [i for i in range(7) if i not in (stable, shifted)]
    assert all(age["scores"][i] is None for i in quiet)
    assert all(report["drift"]["share"][i] is None for i in quiet)
    assert report["drift"]["share"][shifted] == pytest.approx(2 / 3)
    assert report["drift"]["share"][stable] == 0.0
    assert report["drift"]["columns"]["income"]["drifted"][shifted] is False
    prediction = report["prediction_drift"]["columns"]["prediction"]
    assert prediction["drifted"][shifted] is True and prediction["drifted"][stable] is False
    assert report["rows"] == {"scored": 4000, "requests": 80, "labelled": 0}
    assert report["resources"]["requests"][shifted] == 40
    assert report["resources"]["latency_p50_ms"][shifted] == 2.0
    assert report["resources"]["latency_p50_ms"][quiet[0]] is None
    summary = {c["column"]: c for c in report["summary"]["versions"]["1"]["columns"]}
    assert summary["age"]["drifted"] and not summary["income"]["drifted"]
    page = render(report)
    assert "age: wasserstein" in page and "Drift over the whole window" in page
    assert not NAN.search(page)


def test_labels_make_the_performance_series_against_goals(
    sqlite_client: Client, tmp_path: Path
) -> None:
    client = sqlite_client
    register(client, tmp_path)
    client.update_model("loans", goals=["accuracy>=0.9"])
    home = client.settings.home
    good, poor = population(500, seed=3), population(500, seed=4)
    labels = []
    for frame, hour, flip in ((good, STABLE, 0), (poor, SHIFTED, 250)):
        ids = traffic(home, frame, hour=hour, prefix=f"p{hour:%d}")
        truth = (frame["age"] > 40).astype(int).to_numpy().copy()
        truth[:flip] = 1 - truth[:flip]  # the first half of the poor day is mislabelled
        rows = [(rid, r) for rid in ids for r in range(50)]
        labels.append(pd.DataFrame(rows, columns=["request_id", "row"]).assign(label=truth))
    add_labels(home, "loans", pd.concat(labels), now=NOW)
    report = build(client)
    section = report["performance"]
    stable, shifted = bucket_of(report, STABLE), bucket_of(report, SHIFTED)
    accuracy = section["metrics"]["accuracy"]
    assert accuracy[stable] == 1.0 and accuracy[shifted] == pytest.approx(0.5)
    span = report["buckets"][shifted]
    direct = performance(home, "loans", *(datetime.fromisoformat(span[k]) for k in span))
    assert accuracy[shifted] == pytest.approx(direct.metrics["accuracy"])
    assert section["n_labelled"][stable] == 500 and sum(section["n_labelled"]) == 1000
    assert [v for i, v in enumerate(accuracy) if i not in (stable, shifted)] == [None] * 5
    assert section["goals"] == [{"metric": "accuracy", "min": 0.9}]
    assert report["rows"]["labelled"] == 1000
    page = render(report)
    assert "goal min" in page and "fill='#dc2626'><title>0.5</title>" in page


def test_kpis_follow_their_expression_and_a_broken_one_is_a_note(
    sqlite_client: Client, tmp_path: Path
) -> None:
    client = sqlite_client
    register(client, tmp_path)
    frame = population(400, seed=5)
    traffic(client.settings.home, frame, hour=STABLE)
    path = monitors_path(client.settings.home, "loans")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "kpis:\n  - {name: mean_age, sql: avg(input__age), target: 45, direction: lower}\n"
    )
    report = build(client)
    values = report["kpis"]["series"]["mean_age"]["values"]
    assert values[bucket_of(report, STABLE)] == pytest.approx(frame["age"].mean())
    assert (
        sum(v is None for v in values) == 6 and report["kpis"]["series"]["mean_age"]["target"] == 45
    )
    path.write_text("kpis:\n  - {name: broken, sql: sum(input__nope)}\n")
    broken = build(client)
    assert "KPI 'broken' failed" in broken["kpis"]["note"]
    assert broken["drift"]["share"] == report["drift"]["share"]  # the rest still stands
    assert "KPI &#x27;broken&#x27; failed" in render(broken)
    path.write_text("drift: {share: 2}\n")
    odd = build(client)
    for section in ("drift", "prediction_drift", "summary"):
        assert "share must be in (0, 1]" in odd[section]["note"], section
    assert odd["resources"]["requests"] == report["resources"]["requests"]
    assert "share must be in (0, 1]" in render(odd)


def test_resources_per_step_are_those_of_the_resources_module(
    sqlite_client: Client, tmp_path: Path
) -> None:
    register(sqlite_client, tmp_path)
    home = sqlite_client.settings.home
    write_requests(home, "loans", STABLE, [5, 10, 20, 400], statuses=[200, 200, 500, 200])
    write_requests(home, "loans", SHIFTED, [7.0] * 6, version=2)
    samples = ResourceLog(home)
    for minute, cpu in ((0, 1.0), (20, 3.5), (40, 4.0)):
        samples.record("loans", 1, 0, cpu, (50 + minute) << 20, STABLE + timedelta(minutes=minute))
    samples.flush()
    report = build(sqlite_client)
    stable, shifted = bucket_of(report, STABLE), bucket_of(report, SHIFTED)
    found = report["resources"]
    for i in (stable, shifted):
        span = report["buckets"][i]
        expected = resource_summary(home, "loans", *(datetime.fromisoformat(span[k]) for k in span))
        for name in ("latency_p50_ms", "latency_p99_ms", "error_rate", "throughput_rps"):
            assert found[name][i] == pytest.approx(expected[name]), name
        assert found["requests"][i] == expected["requests"]
    assert found["error_rate"][stable] == 0.25 and found["cpu_seconds"][stable] == 3.0
    assert found["peak_rss_mb"][stable] == 90.0 and found["cpu_seconds"][shifted] is None
    assert report["versions"] == [1, 2]
    only = build(sqlite_client, version=1)
    assert only["resources"]["requests"][shifted] == 0 and only["rows"]["requests"] == 4
    assert only["resources"]["latency_p50_ms"][shifted] is None


def test_an_empty_window_says_insufficient_data(sqlite_client: Client, tmp_path: Path) -> None:
    register(sqlite_client, tmp_path)
    report = build(sqlite_client, "1d")
    assert report["step"] == "1h" and len(report["buckets"]) == 24 and report["versions"] == []
    assert report["rows"] == {"scored": 0, "requests": 0, "labelled": 0}
    for section in ("drift", "prediction_drift", "performance", "resources"):
        assert report[section]["note"].startswith("insufficient data"), section
    assert report["resources"]["throughput_rps"] == [None] * 24
    page = render(report)
    assert page.count("insufficient data") >= 8 and not NAN.search(page)


def test_unknown_model_and_version_are_not_found(sqlite_client: Client, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        build(sqlite_client)
    register(sqlite_client, tmp_path)
    with pytest.raises(VersionNotFoundError):
        build(sqlite_client, version=9)


def wide_model(client: Client, tmp_path: Path, columns: list[str]) -> pd.DataFrame:
    code = "class W:\n    def predict(self, frame):\n        return frame.iloc[:, 0] > 0\n"
    (tmp_path / "w.py").write_text(code)
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(0, 1, (3000, len(columns))), columns=columns)
    client.register_model(
        PythonModel("w:W", code=[tmp_path / "w.py"]), "loans",
        input_example=train.head(3), training_data=train,
    )  # fmt: skip
    return train


def test_a_week_of_thirty_columns_stays_small_and_escaped(
    sqlite_client: Client, tmp_path: Path
) -> None:
    columns = [f"feature_{i:02d}" for i in range(29)] + ["<b>x</b> & 'y'"]
    wide_model(sqlite_client, tmp_path, columns)
    rng = np.random.default_rng(1)
    for day in range(7):
        for hour in range(0, 24, 3):
            frame = pd.DataFrame(rng.normal(day / 4, 1, (60, 30)), columns=columns)
            at = NOW - timedelta(days=day, hours=hour + 1)
            inputs = {c: frame[c] for c in columns}
            _log(sqlite_client.settings.home, inputs, at, f"w{day}-{hour}")
    reports = {}
    for step in ("1d", "1h"):
        report = reports[step] = build(sqlite_client, step=step)
        assert len(report["drift"]["columns"]) == 30
        assert report["rows"]["scored"] == 7 * 8 * 60
        page = render(report)
        assert len(page.encode()) < 200_000, (step, len(page.encode()))
        assert "&lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27;" in page and "<b>x</b>" not in page
        assert "<script" not in page and "http" not in page and "<link" not in page
    daily = reports["1d"]["drift"]["columns"]["feature_00"]["drifted"]
    assert daily[0] is True and daily[-1] is False  # the oldest day is shifted by 1.5 sd


def _log(home: Path, inputs: dict[str, Any], at: datetime, rid: str) -> None:
    from modelward.monitoring.inference_log import InferenceLog, inference_root
    from modelward.monitoring.records import InferenceRecord

    log = InferenceLog(inference_root(home))
    log.start()
    try:
        arrays = {k: np.asarray(v) for k, v in inputs.items()}
        first = next(iter(arrays.values()))
        log.record(
            InferenceRecord(
                request_id=rid, time=at, model="loans", version=1, status=200, latency_ms=3.0,
                inputs=arrays, outputs={"prediction": first > 0},
            )
        )  # fmt: skip
    finally:
        log.close()


def test_the_file_is_written_whole_or_not_at_all(sqlite_client: Client, tmp_path: Path) -> None:
    register(sqlite_client, tmp_path)
    registry = sqlite_client.registry
    args = (sqlite_client.settings, registry.store, registry.artifacts, "loans", "7d")
    out = tmp_path / "out" / "report.html"
    with pytest.raises(InvalidInputError, match="does not exist"):
        write_report(*args, out, now=NOW)  # type: ignore[arg-type]
    assert not out.parent.exists()
    out.parent.mkdir()
    out.write_text("the previous report")
    with pytest.raises(VersionNotFoundError):
        write_report(*args, out, version=4, now=NOW)  # type: ignore[arg-type]
    assert out.read_text() == "the previous report"
    written = write_report(*args, out, now=NOW)  # type: ignore[arg-type]
    assert written["bytes"] == out.stat().st_size and out.read_text().startswith("<!doctype html>")
    with pytest.raises(InvalidInputError, match="is a folder"):
        write_report(*args, out.parent, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="cannot write the report"):
        write_atomic(out.parent, "<p>x</p>")  # the rename onto a folder fails at the last step
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]

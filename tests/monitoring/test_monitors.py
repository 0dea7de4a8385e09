"""Monitor definitions: the YAML format, strict parsing, and saving through the SDK function."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from modelward.config import load_settings
from modelward.errors import InvalidInputError
from modelward.monitoring.monitors import (
    Threshold,
    format_duration,
    load_all,
    load_monitors,
    monitors_path,
    parse_duration,
    parse_threshold,
    save_monitors,
)

GOOD = """\
monitors:
  - name: slow
    metric: resources.latency_p99_ms
    window: 1h
    threshold: "> 250"
    severity: warning
    schedule: {every: 15m}
  - name: drifted
    metric: drift.column.age
    window: 7d
    threshold: ">= 0.2"
    severity: critical
    schedule:
      every: 1d
    version: 3
"""


def write(home: Path, model: str, text: str) -> Path:
    path = monitors_path(home, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def entry(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "slow",
        "metric": "resources.latency_p99_ms",
        "window": "1h",
        "threshold": "> 250",
        "severity": "warning",
        "schedule": {"every": "15m"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_file_is_read_field_by_field(mw_home: Path) -> None:
    path = write(mw_home, "churn", GOOD)
    slow, drifted = load_monitors(mw_home, "churn")
    assert (slow.model, slow.name, slow.family) == ("churn", "slow", "resources")
    assert slow.window == timedelta(hours=1) and slow.every == timedelta(minutes=15)
    assert slow.threshold == Threshold(">", 250.0) and slow.severity == "warning"
    assert slow.version is None and slow.source == str(path)
    assert drifted.metric == "drift.column.age" and drifted.version == 3
    assert drifted.window == timedelta(days=7) and str(drifted.threshold) == ">= 0.2"


def test_no_file_means_no_monitors(mw_home: Path) -> None:
    assert load_monitors(mw_home, "churn") == []


def test_save_writes_a_file_that_loads_back_the_same() -> None:
    settings = load_settings()
    saved = save_monitors(
        settings,
        "churn",
        [
            entry(),
            entry(name="errors", metric="resources.error_rate", threshold=">= 0.05", version=2),
        ],
    )
    assert load_monitors(settings.home, "churn") == saved
    assert [m.to_dict() for m in saved][1] == entry(
        name="errors", metric="resources.error_rate", threshold=">= 0.05", version=2
    )


def test_save_refuses_bad_definitions_and_keeps_the_old_file() -> None:
    settings = load_settings()
    save_monitors(settings, "churn", [entry()])
    with pytest.raises(InvalidInputError, match="severity"):
        save_monitors(settings, "churn", [entry(severity="urgent")])
    assert [m.name for m in load_monitors(settings.home, "churn")] == ["slow"]


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"treshold": "> 1"}, ["'treshold'", "allowed fields"]),
        ({"severity": "urgent"}, ["'severity'", "urgent"]),
        ({"severity": "Warning"}, ["'severity'"]),
        ({"metric": "latency.p99"}, ["'metric'", "unknown metric family 'latency'"]),
        ({"metric": "resources.latency_p42_ms"}, ["'metric'", "latency_p42_ms"]),
        ({"metric": "drift"}, ["'metric'", "dotted"]),
        ({"metric": "kpi..x"}, ["'metric'", "empty part"]),
        ({"window": "1hour"}, ["'window'", "1hour"]),
        ({"window": "0m"}, ["'window'"]),
        ({"window": 60}, ["'window'"]),
        ({"threshold": "250"}, ["'threshold'", "'250'"]),
        ({"threshold": "=> 250"}, ["'threshold'"]),
        ({"threshold": 250}, ["'threshold'"]),
        ({"schedule": "15m"}, ["'schedule'", "every"]),
        ({"schedule": {"evry": "15m"}}, ["'schedule'", "'evry'"]),
        ({"schedule": {}}, ["'schedule.every'"]),
        ({"version": True}, ["'version'"]),
        ({"version": 0}, ["'version'"]),
        ({"metric": None}, ["missing", "'metric'"]),
        ({"name": "bad name!"}, ["monitor #1", "'name'"]),
    ],
)
def test_a_typo_names_the_file_the_monitor_and_the_field(
    mw_home: Path, changes: dict[str, object], names: list[str]
) -> None:
    import yaml

    path = write(mw_home, "churn", yaml.safe_dump({"monitors": [entry(**changes)]}))
    with pytest.raises(InvalidInputError) as caught:
        load_monitors(mw_home, "churn")
    text = str(caught.value)
    assert str(path) in text
    if "name" not in changes:
        assert "monitor 'slow'" in text
    for name in names:
        assert name in text


def test_an_unquoted_threshold_is_explained(mw_home: Path) -> None:
    path = write(mw_home, "churn", GOOD.replace('"> 250"', "> 250"))
    with pytest.raises(InvalidInputError) as caught:
        load_monitors(mw_home, "churn")
    assert str(path) in caught.value.message and "quote" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monitor:\n  - name: x\n", "unknown field(s) 'monitor'"),
        ("- name: x\n", "must be a mapping"),
        ("monitors: {name: x}\n", "must be a list"),
        ("monitors:\n  - just a string\n", "monitor #1 must be a mapping"),
    ],
)
def test_a_malformed_file_is_refused(mw_home: Path, text: str, expected: str) -> None:
    write(mw_home, "churn", text)
    with pytest.raises(InvalidInputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_monitors(mw_home, "churn")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="two monitors are named 'slow'"):
        save_monitors(load_settings(), "churn", [entry(), entry(window="1d")])


def test_an_empty_file_has_no_monitors(mw_home: Path) -> None:
    write(mw_home, "churn", "")
    assert load_monitors(mw_home, "churn") == []


def test_one_broken_file_does_not_hide_the_others(mw_home: Path) -> None:
    write(mw_home, "churn", GOOD)
    write(mw_home, "fraud", GOOD.replace("warning", "loud"))
    monitors, broken = load_all(mw_home)
    assert {m.model for m in monitors} == {"churn"} and len(monitors) == 2
    assert list(broken) == ["fraud"] and "'loud'" in str(broken["fraud"])


@pytest.mark.parametrize(
    ("text", "seconds", "printed"),
    [
        ("30s", 30, "30s"),
        ("15m", 900, "15m"),
        ("90m", 5400, "90m"),
        ("1h", 3600, "1h"),
        ("7d", 604800, "7d"),
        ("2w", 1209600, "14d"),
    ],
)
def test_durations_read_and_print_back(text: str, seconds: int, printed: str) -> None:
    delta = parse_duration(text, "window")
    assert delta.total_seconds() == seconds and format_duration(delta) == printed


@pytest.mark.parametrize(
    ("threshold", "value", "breached"),
    [
        ("> 250", 250.0, False),
        ("> 250", 250.5, True),
        (">= 0.05", 0.05, True),
        (">= 0.05", 0.049, False),
        ("< 0.8", 0.79, True),
        ("< 0.8", 0.8, False),
        ("<= -1e-3", -0.001, True),
        ("<= -1e-3", 0.0, False),
    ],
)
def test_thresholds_compare(threshold: str, value: float, breached: bool) -> None:
    assert parse_threshold(threshold, "threshold").breached(value) is breached

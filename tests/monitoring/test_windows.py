from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from modelward.errors import InvalidInputError
from modelward.monitoring.windows import parse_time, parse_window, to_utc

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 90s ", timedelta(seconds=90)),
    ],
)
def test_relative_windows_end_now(text: str, back: timedelta) -> None:
    assert parse_window(text, now=NOW) == (NOW - back, NOW)


def test_relative_windows_default_to_the_clock() -> None:
    before = datetime.now(UTC)
    start, end = parse_window("1h")
    assert before <= end <= datetime.now(UTC)
    assert end - start == timedelta(hours=1) and end.tzinfo == UTC


def test_now_in_another_zone_or_naive() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert parse_window("1h", now=paris) == (NOW - timedelta(hours=1), NOW)
    naive = NOW.replace(tzinfo=None)
    assert parse_window("1h", now=naive) == (NOW - timedelta(hours=1), NOW)


def test_absolute_windows_without_a_zone_are_utc() -> None:
    start, end = parse_window("2026-11-01T00:00/2026-11-02T00:00", now=NOW)
    assert start == datetime(2026, 11, 1, tzinfo=UTC)
    assert end == datetime(2026, 11, 2, tzinfo=UTC)
    assert parse_window("2026-11-01/2026-11-02") == (start, end)


def test_mixed_time_zones_are_normalised() -> None:
    start, end = parse_window("2026-11-01T01:00+01:00/2026-11-01T07:00-05:00")
    assert start == datetime(2026, 11, 1, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert start.utcoffset() == end.utcoffset() == timedelta(0)
    assert parse_window("2026-11-01T00:00Z/2026-11-01T12:00:00.5+00:00")[1].microsecond == 500000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty window"),
        ("1y", "not a duration"),
        ("an hour", "not a duration"),
        ("-1h", "not a duration"),
        ("0h", "is empty"),
        ("2026-11-02/2026-11-01", "is empty"),
        ("2026-11-01T01:00+01:00/2026-11-01T00:00Z", "is empty"),
        ("2026-13-01/2026-11-02", "window start '2026-13-01'"),
        ("2026-11-01/tomorrow", "window end 'tomorrow'"),
    ],
)
def test_bad_windows_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse_window(text, now=NOW)
    assert caught.value.hint


def test_to_utc_and_parse_time() -> None:
    assert to_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time("2026-01-01T02:00+02:00") == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="not an ISO 8601"):
        parse_time("noon")

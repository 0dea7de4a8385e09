"""Time windows for monitoring: ``1h``, ``7d``, ``30m`` back from now, or ``START/END``.

Every window is half-open, ``[start, end)``, in UTC. Times written without a zone (``2026-11-01
T00:00``, or a naive ``datetime``) are taken as UTC rather than refused: the server, the
inference log and the partitions all live in UTC, and a window typed at a prompt rarely carries
an offset. Times with an offset are converted to UTC, so ``START`` and ``END`` may use
different zones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from modelward.errors import InvalidInputError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_HINT = "write 30m, 1h, 1d or 7d (back from now), or START/END such as 2026-11-01T00:00/2026-11-02"


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is taken to be UTC already."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_time(text: str, *, where: str = "time") -> datetime:
    """An ISO 8601 date or date-time as UTC (``Z`` and offsets accepted; no zone means UTC)."""
    try:
        return to_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise InvalidInputError(
            f"{where} {text!r} is not an ISO 8601 date or time",
            hint="e.g. 2026-11-01, 2026-11-01T08:30 or 2026-11-01T08:30:00+01:00",
        ) from None


def parse_window(text: str, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC for ``text``; relative windows end at ``now`` (default: now)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"empty window {text!r}", hint=_HINT)
    if "/" in text:
        first, _, second = text.partition("/")
        start = parse_time(first, where="window start")
        end = parse_time(second, where="window end")
    else:
        match = _RELATIVE.match(text)
        if match is None:
            raise InvalidInputError(f"window {text!r} is not a duration or START/END", hint=_HINT)
        amount, unit = int(match.group(1)), match.group(2)
        end = to_utc(now) if now is not None else datetime.now(UTC)
        start = end - timedelta(**{_UNITS[unit]: amount})
    if start >= end:
        raise InvalidInputError(
            f"window {text!r} is empty: its start {start.isoformat()} is not before its end "
            f"{end.isoformat()}",
            hint=_HINT,
        )
    return start, end

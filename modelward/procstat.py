"""CPU seconds and resident memory of a process, from Linux's /proc (no psutil needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcStat:
    """What a process has used so far."""

    cpu_seconds: float
    rss_bytes: int


def read_procstat(pid: int) -> ProcStat | None:
    """User+system CPU seconds and RSS of ``pid``; ``None`` when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode()
        with open(f"/proc/{pid}/statm", "rb") as fh:
            statm = fh.read().split()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    utime, stime = int(fields[11]), int(fields[12])
    return ProcStat(cpu_seconds=(utime + stime) / _TICKS, rss_bytes=int(statm[1]) * _PAGE)

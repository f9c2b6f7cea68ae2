"""CPU time of other processes, read from ``/proc``: what a benchmark's server and database
spent per request.

Throughput on a shared machine moves with whatever else runs; the CPU a request costs moves
far less, so benchmarks report both. Linux only: elsewhere every figure is ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(pid: str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (it may hold spaces)."""
    try:
        text = (_PROC / pid / "stat").read_text()
    except OSError:  # gone meanwhile, or not readable
        return None
    return text.rsplit(")", 1)[1].split()


def _cpu_s(fields: list[str]) -> float:
    # utime and stime (fields 14 and 15 of stat; 12 and 13 after the name), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_s(group: int) -> float | None:
    """CPU seconds (user + system) of the live processes of process group ``group``."""
    if not _PROC.is_dir():
        return None
    total = 0.0
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(entry.name)
            if fields is not None and int(fields[2]) == group:
                total += _cpu_s(fields)
    return total


def named_cpu_s(name: str) -> float | None:
    """CPU seconds (user + system) of the live processes whose command name is ``name``
    (``postgres``: a local database server's backends)."""
    if not _PROC.is_dir():
        return None
    total = 0.0
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if command == name:
                fields = _stat_fields(entry.name)
                if fields is not None:
                    total += _cpu_s(fields)
    return total


def per_request_ms(
    read: Callable[[], float | None], before: float | None, requests: int
) -> float | None:
    """Milliseconds of CPU per request since ``before`` (a reading of ``read``)."""
    after = read()
    if before is None or after is None or requests <= 0:
        return None
    return round(1000.0 * (after - before) / requests, 2)

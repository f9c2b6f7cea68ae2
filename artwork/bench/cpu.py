"""CPU time of other processes, read from ``/proc``: what a benchmark's server and database
spent per request.

Throughput on a shared machine moves with whatever else runs; the CPU a request costs moves
far less, so benchmarks report both. Linux only: elsewhere every figure is ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

_PROC = Path("/proc")


def _processes() -> Iterator[tuple[str, list[str]]]:
    """Each live process's command name and the fields of its ``/proc/PID/stat`` after the
    name (which may hold spaces and parentheses: it ends at the last ``)``)."""
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile, or not readable
            continue
        head, _, tail = text.rpartition(")")
        yield head.partition("(")[2], tail.split()


def _cpu_s(fields: list[str]) -> float:
    # utime and stime (fields 14 and 15 of stat; 12 and 13 after the name), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_s(group: int) -> float | None:
    """CPU seconds (user + system) of the live processes of process group ``group``."""
    if not _PROC.is_dir():
        return None
    return sum((_cpu_s(fields) for _, fields in _processes() if int(fields[2]) == group), 0.0)


def named_cpu_s(name: str) -> float | None:
    """CPU seconds (user + system) of the live processes whose command name is ``name``
    (``postgres``: a local database server's backends)."""
    if not _PROC.is_dir():
        return None
    return sum((_cpu_s(fields) for command, fields in _processes() if command == name), 0.0)


def per_request_ms(
    read: Callable[[], float | None], before: float | None, requests: int
) -> float | None:
    """Milliseconds of CPU per request since ``before`` (a reading of ``read``)."""
    after = read()
    if before is None or after is None or requests <= 0:
        return None
    return round(1000.0 * (after - before) / requests, 2)

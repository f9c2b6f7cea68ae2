"""The serving benchmark reads wrk's report correctly (the run itself is a script)."""

from __future__ import annotations

import pytest

from artwork.bench.serve import ServeBenchOptions, parse_wrk

REPORT = """Running 15s test @ http://127.0.0.1:8000/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    41.20ms   12.01ms 210.33ms   80.00%
    Req/Sec   388.12     40.10   450.00     70.00%
  Latency Distribution
     50%   39.50ms
     75%   45.00ms
     90%   52.00ms
     99%  812.00us
  5823 requests in 15.01s, 380.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:    387.94
Transfer/sec:     25.33MB
"""


def test_parse_wrk_reads_rate_percentiles_and_every_error() -> None:
    figures = parse_wrk(REPORT)
    assert figures == {
        "rps": 387.9,
        "p50_ms": 39.5,
        "p99_ms": 0.8,
        "errors": 9,
        "requests": 5823,
    }


def test_seconds_in_a_report_are_milliseconds_times_1000() -> None:
    assert parse_wrk(REPORT.replace("99%  812.00us", "99%    1.20s"))["p99_ms"] == 1200.0


def test_options_name_the_bad_value() -> None:
    with pytest.raises(ValueError, match="titles"):
        ServeBenchOptions(titles=0)

"""The benchmarks' CPU readings, taken of real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from artwork.bench.cpu import group_cpu_s, named_cpu_s, per_request_ms

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")


def test_a_process_groups_cpu_counts_its_busy_children() -> None:
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    child = subprocess.Popen(
        [sys.executable, "-c", spin + "\ntime.sleep(30)"], start_new_session=True
    )
    try:
        before = group_cpu_s(child.pid)
        assert before is not None
        deadline = time.monotonic() + 20
        while (group_cpu_s(child.pid) or 0.0) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        spent = group_cpu_s(child.pid)
        assert spent is not None and spent >= 0.3
        assert per_request_ms(lambda: spent, 0.0, 100) == round(1000 * spent / 100, 2)
    finally:
        child.kill()
        child.wait()
    assert group_cpu_s(child.pid) == 0.0  # nothing left in the group


def test_readings_that_cannot_be_made_are_none() -> None:
    assert named_cpu_s("no-such-command-here") == 0.0
    assert per_request_ms(lambda: None, 1.0, 10) is None
    assert per_request_ms(lambda: 2.0, None, 10) is None
    assert per_request_ms(lambda: 2.0, 1.0, 0) is None

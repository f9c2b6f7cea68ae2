"""The supervisor of ``artwork serve``'s learner process (real child processes)."""

from __future__ import annotations

import sys
import time

import pytest

from artwork.bandit import learner_process
from artwork.bandit.learner_process import LearnerProcess, learner_command
from artwork.testing.waiting import wait_for

#: A child that stops cleanly on SIGTERM (as ``artwork learn`` does) and otherwise runs on.
STOPS_ON_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "time.sleep(60)\n"
)


def test_the_command_is_artwork_learn_bound_to_its_parent() -> None:
    assert learner_command(1234) == [
        sys.executable,
        "-m",
        "artwork.cli.main",
        "learn",
        "--parent",
        "1234",
    ]


def test_a_child_that_exits_is_started_again_with_a_growing_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(learner_process, "FIRST_RESTART_DELAY_S", 0.05)
    process = LearnerProcess({}, [sys.executable, "-c", "import sys; sys.exit(3)"]).start()
    try:
        assert wait_for(lambda: process.starts >= 3)
    finally:
        process.stop(timeout=10)
    starts = process.starts
    time.sleep(0.3)
    assert process.starts == starts  # none after stop


def test_stop_asks_the_child_to_stop_and_returns_its_code() -> None:
    process = LearnerProcess({}, [sys.executable, "-c", STOPS_ON_SIGTERM]).start()
    assert wait_for(lambda: process.pid is not None)
    time.sleep(0.5)  # the child has installed its handler
    assert process.stop(timeout=10) == 0
    assert process.pid is None and process.starts == 1


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    ignores = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"
    process = LearnerProcess({}, [sys.executable, "-c", ignores]).start()
    time.sleep(0.5)
    started = time.monotonic()
    assert process.stop(timeout=0.5) == -9
    assert time.monotonic() - started < 10

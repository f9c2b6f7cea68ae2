"""Waiting in tests for something another thread or process does, and threads started at
once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, every: float = 0.05) -> bool:
    """Poll ``condition`` every ``every`` seconds until it holds or ``timeout`` has passed;
    whether it holds at the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def run_together(call: Callable[[], object], threads: int = 4) -> list[BaseException]:
    """Start ``call`` in ``threads`` threads released at the same moment; what they raised."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            call()
        except BaseException as exc:  # handed to the caller
            failures.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return failures

"""Waiting in tests for something another thread or process does."""

from __future__ import annotations

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

"""A first-come, first-served gate for CPU-bound work shared by a process's threads.

Python threads share one interpreter lock, so several threads building homepages at once do not
build them faster: they take turns every few milliseconds, and each turn costs context switches
and cold caches (measured in process on the serving benchmark's catalogue: 8 threads spent
40 ms of CPU per page where one thread spent 29). The server's request threads therefore build
pages one (or a few) at a time per process, in arrival order, while other requests (rewards,
health checks) go on.
``threading.Semaphore`` would do the counting but wakes waiters in no particular order, which
shows as a long latency tail; this gate hands its slot to the longest waiter.
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class FifoGate:
    """At most ``slots`` holders at a time; waiters enter in the order they arrived.

    Use as a context manager: ``with gate: build_page()``.

    Raises:
        ValueError: ``slots`` < 1.
    """

    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots}")
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> FifoGate:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder that hands its slot over
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes on, never freed between
            else:
                self._free += 1

    @property
    def waiting(self) -> int:
        """Threads waiting for a slot now."""
        with self._lock:
            return len(self._waiting)

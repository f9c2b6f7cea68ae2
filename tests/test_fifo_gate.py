"""The gate that lets a process's threads build pages a few at a time, in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from artwork.fifo_gate import FifoGate


def _wait_until(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.001)


def test_waiters_enter_in_the_order_they_arrived() -> None:
    gate = FifoGate(1)
    entered: list[int] = []

    def visit(number: int) -> None:
        with gate:
            entered.append(number)

    threads = []
    with gate:
        for number in range(8):
            thread = threading.Thread(target=visit, args=(number,))
            thread.start()
            threads.append(thread)
            _wait_until(lambda n=number: gate.waiting == n + 1)
    for thread in threads:
        thread.join(10)
    assert entered == list(range(8))


def test_no_more_than_its_slots_are_inside_at_once() -> None:
    gate = FifoGate(2)
    inside = 0
    most = 0
    lock = threading.Lock()

    def visit() -> None:
        nonlocal inside, most
        with gate:
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.002)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=visit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 2 and inside == 0


def test_a_failing_holder_passes_its_slot_on() -> None:
    gate = FifoGate(1)
    with pytest.raises(RuntimeError), gate:
        raise RuntimeError("page failed")
    done = threading.Event()

    def visit() -> None:
        with gate:
            done.set()

    thread = threading.Thread(target=visit)
    thread.start()
    assert done.wait(10)
    thread.join(10)


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="slots must be >= 1"):
        FifoGate(0)

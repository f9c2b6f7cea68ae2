"""The learner in a process of its own beside ``artwork serve``'s workers.

Learning is CPU-bound Python (reading decisions, rendering VW examples, VW's updates). Run in a
serving worker's thread it holds that worker's interpreter lock for most of every pass, and the
worker's requests queue behind it: under a reward load the server stayed half idle and answered
about 1,000 rewards/s with p99 230 ms, against 1,750/s with p99 44 ms with the learner in a
process of its own (``scripts/bench_serve.py``'s catalogue, two workers, two cores). With
``ARTWORK_LEARNER=process`` (the default) ``artwork serve`` therefore starts ``artwork learn
--parent PID`` beside its workers and keeps it running:

- the child takes the database's learner lock like any learner (:mod:`artwork.bandit.learner_lock`),
  so a replica's child waits as a standby while another replica's learns;
- if it exits while the server runs, it is started again after a pause that doubles with each
  exit in a row (1 s up to a minute), and the pause starts over once a child has run a minute;
- on shutdown it gets SIGTERM and saves its last snapshot before it exits;
- if the server dies without shutting down (``kill -9``), the child sees its parent gone within
  a second and stops the same way (``--parent``).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)

FIRST_RESTART_DELAY_S = 1.0
"""Pause before a learner process that exited is started again (doubled per exit in a row)."""

MAX_RESTART_DELAY_S = 60.0
"""Longest pause between two starts."""

HEALTHY_RUN_S = 60.0
"""A child that ran this long resets the pause to :data:`FIRST_RESTART_DELAY_S`."""


def learner_command(parent: int) -> list[str]:
    """``artwork learn`` that stops when process ``parent`` is gone."""
    return [sys.executable, "-m", "artwork.cli.main", "learn", "--parent", str(parent)]


class LearnerProcess:
    """Runs one learner child process and starts it again whenever it exits.

    Args:
        env: The child's environment (the server's settings travel in it).
        command: The child's command line; default :func:`learner_command` of this process.
    """

    def __init__(self, env: Mapping[str, str], command: Sequence[str] | None = None) -> None:
        self._env = dict(env)
        self._command = list(command) if command is not None else learner_command(os.getpid())
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """The running child's process id (None between two children)."""
        with self._lock:
            child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def start(self) -> LearnerProcess:
        """Start the child and the thread that keeps it running (once)."""
        if self._thread is None and self._spawn():
            self._thread = threading.Thread(
                target=self._supervise, name="artwork-learner-process", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> int | None:
        """Ask the child to save its snapshot and exit (SIGTERM); killed after ``timeout``.

        Returns:
            The child's exit code (None if none was running).
        """
        self._stopping.set()
        with self._lock:
            child = self._child
        code = None
        if child is not None:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                code = child.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.error("the learner process did not stop within %g s: killed", timeout)
                child.kill()
                code = child.wait()
        if self._thread is not None:
            self._thread.join(timeout)
        return code

    def _spawn(self) -> bool:
        """Start a child unless stopping (checked under the lock :meth:`stop` reads it with,
        so no child starts after :meth:`stop` has taken the last one)."""
        with self._lock:
            if self._stopping.is_set():
                return False
            self._child = subprocess.Popen(self._command, env=self._env)
            pid = self._child.pid
        self.starts += 1
        logger.info("the bandit learner runs in process %d", pid)
        return True

    def _supervise(self) -> None:
        delay = FIRST_RESTART_DELAY_S
        while not self._stopping.is_set():
            with self._lock:
                child = self._child
            assert child is not None
            started = time.monotonic()
            code = child.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= HEALTHY_RUN_S:
                delay = FIRST_RESTART_DELAY_S
            # Code 0: it was asked to stop (a signal to the server's whole process group,
            # which the server follows shortly); anything else is a failure.
            logger.log(
                logging.INFO if code == 0 else logging.ERROR,
                "the learner process %d exited (code %s); starting another in %g s",
                child.pid,
                code,
                delay,
            )
            if self._stopping.wait(delay) or not self._spawn():
                return
            delay = min(2 * delay, MAX_RESTART_DELAY_S)

"""The serving process's bandit thread: hot-swaps to new snapshots and, optionally, learns.

Every serving process polls the snapshot table (``SELECT max(version)``, every
``ARTWORK_SNAPSHOT_POLL_S``) and loads a newer model in this thread, never on a request.
With ``ARTWORK_LEARNER=background`` the same thread also runs the learner,
woken as soon as a reward is recorded, and swaps to each snapshot it saves at once: in every
process, but only while it holds the database's learner lock
(:mod:`artwork.bandit.learner_lock`), which each worker tries to take at every pass. So exactly
one learner runs per database, and when its process dies another process takes over from the
newest snapshot. With ``ARTWORK_LEARNER=process`` (the default) the learner runs in a process
of its own that ``artwork serve`` starts (:mod:`artwork.bandit.learner_process`), and with
``off`` in an ``artwork learn`` elsewhere: this thread then only follows the snapshots.

The thread itself never dies of an error: an unexpected one (a bug, not a condition the
learner names) is logged with its traceback, the learner is dropped with the lock, and a fresh
one is built from the newest snapshot after a pause that doubles with each failure in a row
(``restarts`` in :meth:`BanditWorker.status` counts them).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.learner import Learner
from artwork.bandit.learner_lock import LearnerLock
from artwork.errors import ArtworkError, ConflictError, ModelError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """Whether this process runs the learner, and whether the bandit thread is alive."""

    alive: bool
    learning: bool
    model_version: int
    restarts: int = 0


#: Longest pause before a learner that failed unexpectedly is built again.
MAX_RESTART_DELAY_S = 60.0

#: Shortest time between two passes that rewards woke. Every recorded reward wakes the
#: worker; under a reward load a pass per reward (several queries each) cost more than the
#: rewards themselves, while passes this far apart learn them in batches, as promptly.
MIN_WOKEN_GAP_S = 0.1


class BanditWorker:
    """One daemon thread that keeps a bandit's model fresh (and learns, given a learner).

    Args:
        bandit: The serving bandit to refresh.
        learner: The learner to run, or None to only follow snapshots others save.
        poll_s: Seconds between snapshot polls (0: only after the learner saves).
        learn_interval_s: Seconds between learner passes when nothing is ready.
        lock: With ``learner_factory``: the learner lock this process tries to take at every
            pass; once it holds it, it builds its learner and learns.
        learner_factory: Builds the learner (from the newest snapshot) once the lock is held.

    Raises:
        ValueError: ``poll_s`` < 0 or ``learn_interval_s`` <= 0.
    """

    def __init__(
        self,
        bandit: ArtworkBandit,
        learner: Learner | None,
        *,
        poll_s: float,
        learn_interval_s: float,
        lock: LearnerLock | None = None,
        learner_factory: Callable[[], Learner] | None = None,
    ) -> None:
        if poll_s < 0:
            raise ValueError(f"poll_s must be >= 0, got {poll_s}")
        if learn_interval_s <= 0:
            raise ValueError(f"learn_interval_s must be > 0, got {learn_interval_s}")
        self._bandit = bandit
        self._learner = learner
        self._poll_s = poll_s
        self._interval_s = learn_interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = lock
        self._factory = learner_factory if lock is not None else None
        self._restarts = 0
        self._failures_in_a_row = 0
        self._retry_at = 0.0
        self._next_try = 0.0  # when a process without the learner lock may try it again
        if learner is not None or self._factory is not None:
            bandit.add_reward_listener(self._wake.set)

    @property
    def learner(self) -> Learner | None:
        """The learner this worker runs, if any (disabled after a model error)."""
        return self._learner

    def status(self) -> WorkerStatus:
        """Health: thread alive, learner running here, the serving model's version."""
        thread = self._thread
        return WorkerStatus(
            alive=thread is not None and thread.is_alive(),
            learning=self._learner is not None,
            model_version=self._bandit.model_version,
            restarts=self._restarts,
        )

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="artwork-bandit", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run a pass now instead of at the next interval."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread, saving what the learner has not saved yet."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            self._take_over()
            busy = self._learn()
            if self._poll_s > 0 and time.monotonic() >= next_poll:
                self._refresh()
                next_poll = time.monotonic() + self._poll_s
            if busy:
                continue
            waiting = self._learner is not None or self._factory is not None
            wait = self._interval_s if waiting else self._poll_s or 3600.0
            if self._wake.wait(wait):
                self._wake.clear()
                self._stop.wait(MIN_WOKEN_GAP_S)
        if self._learner is not None:
            try:
                self._learner.flush()
            except ArtworkError:
                logger.exception("the bandit learner could not save its last snapshot")
        if self._lock is not None:
            self._lock.release()

    def _take_over(self) -> None:
        """Become the learner if the lock is free (its holder stopped or died)."""
        if self._learner is not None or self._factory is None or self._lock is None:
            return
        now = time.monotonic()
        if now < self._retry_at or now < self._next_try:
            return
        # Once per learning interval, however often rewards wake the worker: trying the lock
        # is a database round trip or three.
        self._next_try = now + self._interval_s
        if not self._lock.try_acquire():
            return
        try:
            self._learner = self._factory()
        except ArtworkError as exc:
            logger.error("the bandit will not learn in this process: %s", exc.message)
            self._factory = None
            self._lock.release()
            return
        except Exception:
            self._failed("building the bandit learner")
            return
        logger.info("this process now runs the bandit learner (pid %d)", os.getpid())

    def _learn(self) -> bool:
        """One learner pass; True if a full batch was learned (more may be ready)."""
        learner = self._learner
        if learner is None or time.monotonic() < self._retry_at:
            return False
        try:
            result = learner.step()
        except (ConflictError, ModelError):
            logger.exception("the bandit learner stopped; serving goes on with the last model")
            self._learner = None
            self._factory = None
            if self._lock is not None:
                self._lock.release()
            return False
        except ArtworkError:
            logger.exception("the bandit learner failed; retrying at the next interval")
            return False
        except Exception:
            self._failed("the bandit learner")
            return False
        self._failures_in_a_row = 0
        return result.learned >= learner.batch_size

    def _failed(self, what: str) -> None:
        """An unexpected error: drop the learner (and the lock, so another process may take
        over) and build a fresh one from the newest snapshot after a growing pause."""
        self._restarts += 1
        self._failures_in_a_row += 1
        delay = min(MAX_RESTART_DELAY_S, self._interval_s * 2 ** min(self._failures_in_a_row, 10))
        self._retry_at = time.monotonic() + delay
        logger.exception(
            "%s failed unexpectedly; a fresh learner starts from the newest snapshot in %.1f s",
            what,
            delay,
        )
        if self._factory is not None:
            self._learner = None
            if self._lock is not None and self._lock.held:
                self._lock.release()

    def _refresh(self) -> None:
        try:
            self._bandit.refresh()
        except ArtworkError:
            logger.exception("cannot load the newest model snapshot; the current one serves")
        except Exception:
            logger.exception("loading the newest model snapshot failed unexpectedly")

"""The learner: turns the decision log into model snapshots, exactly once per event.

A decision is *ready* to learn when its reward has been recorded, or when its reward wait window
has passed (then with the default reward). The learner notes each decision as it is logged (its
position, time and whether a reward is in: a light read; those still waiting are remembered),
reads a decision whole once it is ready, reads the rewards as they arrive, learns every ready event
once, in ``seq`` order within a batch, and saves a versioned snapshot now and then. Each snapshot is
saved in one transaction with the learner's state: the cursor (every decision up to this ``seq``
is learned) and the few decisions after the cursor already learned because their reward came
early. After a crash (``kill -9``) a new learner loads the newest snapshot and its state and
carries on: what was learned after that snapshot is learned again from the log, exactly once in
the resulting model, and nothing is skipped.

Two timing rules keep this exact when several processes write the log (PostgreSQL replicas),
with ``g = ARTWORK_COMMIT_GRACE_S`` the longest time from a decision's or reward's timestamp to
its commit:

- a decision gets the default reward only once it is ``wait + g`` old, so a reward accepted in
  time is visible by then;
- the cursor only passes decisions at least ``2 g`` old and seen by the learner at least
  ``2 g`` ago, so a decision whose ``seq`` was taken but not yet committed is never passed
  over (serving processes log decisions off the request path, so a decision may be committed
  well after its timestamp: what bounds the wait is the write transaction, not the queue).

Run one learner per database (``artwork learn``, or the serving process's background thread in
the single-process default); a second one is refused when it saves a snapshot version that
exists.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from artwork.bandit.base import ArtworkPolicy, unpack_snapshot
from artwork.bandit.log import DecisionLog, EventStub, LearnerState, LoggedEvent
from artwork.bandit.registry import load_policy, policy_class_for
from artwork.config import Settings
from artwork.errors import ModelError

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT = 10
"""Model snapshots kept in the database; older ones are deleted as new ones are saved."""

CLOCK_SKEW_S = 60.0
"""Slack for rewards timestamped slightly before their decision (clocks of two replicas)."""


@dataclass(frozen=True, slots=True)
class LearnStep:
    """What one learner step did."""

    learned: int
    rewarded: int
    defaulted: int
    version: int
    cursor: int
    saved: bool


class Learner:
    """Learns from the decision log in order and saves snapshots; one per database.

    Args:
        engine: The database holding the log and the snapshots.
        settings: Policy, reward wait window, default reward, batch and snapshot cadence.
        clock: The current timezone-aware time; default: UTC now.
        rebuild: Ignore the newest snapshot and learn the whole log again with the configured
            policy; nothing is published until it has caught up.
        on_snapshot: Called with the version of every snapshot saved (the serving process
            swaps models at once).

    Raises:
        ModelError: The newest snapshot cannot be loaded, or it is of another policy or
            structure than ``settings`` ask for (rebuild to switch).
        StorageError: The database failed.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        rebuild: bool = False,
        on_snapshot: Callable[[int], None] | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock or _utcnow
        self._log = DecisionLog(engine, clock=self._clock)
        self._on_snapshot = on_snapshot
        self._lock = threading.Lock()
        self._policy, self._state, self._events_learned = self._load(rebuild)
        self._cursor = self._state.cursor
        self._ahead = set(self._state.ahead)
        # Not persisted: rebuilt by scanning again from the cursor after a restart.
        self._scanned = self._cursor  # every decision up to here has been examined
        self._seen = self._cursor  # the newest decision examined
        # Examined, above the scan mark: seq -> the later of its timestamp and first sight.
        self._unsettled: dict[int, datetime] = {}
        # Seqs skipped between the decisions examined, ``(low, high]`` each: where a decision
        # that commits late can still appear (nowhere else below the newest one examined).
        self._gaps: list[tuple[int, int]] = []
        self._pass_time = self._clock()  # when the current pass started
        self._waiting: deque[tuple[int, datetime]] = deque()  # examined, not yet resolved
        self._waiting_seqs: set[int] = set()
        self._reward_mark: datetime | None = None  # rewards received before were all seen
        self._publishing = not rebuild
        self._pending = 0
        self._last_saved: datetime | None = None

    def _load(self, rebuild: bool) -> tuple[ArtworkPolicy, LearnerState, int]:
        cls = policy_class_for(self._settings)
        checkpoint = self._log.models.latest_checkpoint()
        if checkpoint is None or rebuild:
            version = checkpoint.version if checkpoint is not None else 0
            return cls.from_settings(self._settings, version=version), LearnerState(0), 0
        header, _ = unpack_snapshot(checkpoint.data)
        reason = cls.rebuild_reason(header, self._settings)
        if reason is not None:
            raise ModelError(
                f"cannot go on learning model {checkpoint.version}: {reason}; run "
                "`artwork learn --rebuild` to learn the whole decision log again with the new "
                "settings (serving keeps the current model until the rebuilt one is ready)"
            )
        policy = load_policy(checkpoint.data, self._settings)
        state = checkpoint.state
        if state is None:
            # A snapshot of older artwork, which learned every reward as it came: adopt them.
            state = LearnerState(0, frozenset(self._log.rewarded_seqs()))
        return policy, state, checkpoint.events_learned

    @property
    def policy(self) -> ArtworkPolicy:
        """The policy being trained (not for serving: it changes under the learner's lock)."""
        return self._policy

    @property
    def version(self) -> int:
        """Version of the model being trained."""
        return self._policy.version

    @property
    def state(self) -> LearnerState:
        """The in-memory cursor and decisions learned ahead of it."""
        with self._lock:
            return LearnerState(self._cursor, frozenset(self._ahead))

    @property
    def batch_size(self) -> int:
        """Events learned per step at most (``ARTWORK_LEARN_BATCH``)."""
        return self._settings.learn_batch

    @property
    def events_learned(self) -> int:
        """Events the model being trained has learned."""
        return self._events_learned

    def step(self) -> LearnStep:
        """Learn one batch of ready events and save a snapshot if one is due.

        Returns:
            What was learned; ``learned == 0`` when nothing was ready.

        Raises:
            ConflictError: Another learner saved the same snapshot version.
            StorageError: The database failed.
        """
        with self._lock:
            return self._step()

    def _step(self) -> LearnStep:
        settings = self._settings
        now = self._clock()
        grace = timedelta(seconds=settings.commit_grace_s)
        expired_before = now - timedelta(seconds=settings.reward_wait_s) - grace
        settled_before = now - 2 * grace
        self._pass_time = now
        batch = settings.learn_batch
        ready: dict[int, tuple[LoggedEvent, float]] = {}

        # 1. Decisions logged since the last pass, and any that committed late below them:
        #    read light (seq, time, rewarded?); whole only those ready to learn now.
        due: list[int] = []
        fresh = self._log.stubs_after(self._seen, batch)
        previous = self._seen
        for stub in fresh:
            if stub.seq > previous + 1:
                self._gaps.append((previous, stub.seq - 1))
            previous = stub.seq
            self._examine(stub, expired_before, due)
        if fresh:
            self._seen = fresh[-1].seq
        # Only the gaps above the scan mark are read again: reading every seq up to the
        # newest (as this did) cost a pass O(decisions of the last 2 g), tens of thousands
        # of rows a pass under load.
        scanned = self._scanned
        self._gaps = [(max(low, scanned), high) for low, high in self._gaps if high > scanned]
        if self._gaps:
            late = [seq for seq in self._log.seqs_within(self._gaps) if seq not in self._unsettled]
            for stub in self._log.stubs_at(late):
                self._examine(stub, expired_before, due)
        for event in self._log.events_at(due):
            reward = event.reward.value if event.reward is not None else settings.default_reward
            ready[event.seq] = (event, reward)
        # The scan mark passes only decisions old enough that nothing below them can still
        # be committing (see the module docstring).
        for seq in sorted(self._unsettled):
            if self._unsettled[seq] > settled_before:
                break
            self._scanned = seq
            del self._unsettled[seq]

        # 2. Rewards that arrived since the last pass: learn them now, ahead of the cursor.
        mark = self._reward_mark or expired_before - timedelta(seconds=CLOCK_SKEW_S)
        arrived = self._log.rewards_since(self._cursor, mark, batch)
        wanted = [seq for seq, _ in arrived if seq not in self._ahead and seq not in ready]
        for event in self._log.events_at(wanted):
            if event.reward is not None:
                ready[event.seq] = (event, event.reward.value)
        if len(arrived) >= batch:
            self._reward_mark = arrived[-1][1]  # more may follow: resume from here
        else:
            self._reward_mark = max(mark, settled_before)

        # 3. Decisions whose wait window closed: their reward, or the default one.
        closed: list[int] = []
        while self._waiting and len(closed) < batch:
            seq, created_at = self._waiting[0]
            if created_at > expired_before:
                break
            self._waiting.popleft()
            self._waiting_seqs.discard(seq)
            if seq not in self._ahead and seq not in ready:
                closed.append(seq)
        for event in self._log.events_at(closed):
            reward = event.reward.value if event.reward else settings.default_reward
            ready[event.seq] = (event, reward)

        # 4. Learn, in log order.
        items = [ready[seq] for seq in sorted(ready)]
        if items:
            self._policy.learn_many((event.decision, reward) for event, reward in items)
            self._ahead.update(ready)
            self._events_learned += len(items)
            self._pending += len(items)

        # 5. The cursor moves up to the oldest decision still waiting.
        while self._waiting and self._waiting[0][0] in self._ahead:
            self._waiting_seqs.discard(self._waiting.popleft()[0])
        limit = self._waiting[0][0] - 1 if self._waiting else self._scanned
        cursor = max(self._cursor, min(limit, self._scanned))
        if cursor != self._cursor:
            self._cursor = cursor
            self._ahead = {seq for seq in self._ahead if seq > cursor}

        if not items and not self._publishing:
            self._publishing = True  # a rebuild has caught up: publish what it learned
        saved = False
        if self._pending and self._publishing and self._snapshot_due(now):
            self._save(now)
            saved = True
        rewarded = sum(1 for event, _ in items if event.reward is not None)
        return LearnStep(
            learned=len(items),
            rewarded=rewarded,
            defaulted=len(items) - rewarded,
            version=self._policy.version,
            cursor=self._cursor,
            saved=saved,
        )

    def _examine(self, stub: EventStub, expired_before: datetime, due: list[int]) -> None:
        """Note a decision seen for the first time: due now (rewarded, or its window closed),
        or waiting for its reward."""
        seq = stub.seq
        self._unsettled.setdefault(seq, max(stub.created_at, self._pass_time))
        if seq in self._ahead:
            return
        if stub.rewarded or stub.created_at <= expired_before:
            due.append(seq)
        elif seq not in self._waiting_seqs:
            self._waiting.append((seq, stub.created_at))
            self._waiting_seqs.add(seq)

    def _snapshot_due(self, now: datetime) -> bool:
        settings = self._settings
        if self._pending >= settings.snapshot_every or self._last_saved is None:
            return True
        return (now - self._last_saved).total_seconds() >= settings.snapshot_interval_s

    def _save(self, now: datetime) -> int:
        version = self._policy.version
        self._log.models.save_snapshot(
            version,
            self._policy.config(),
            self._events_learned,
            self._policy.snapshot(),
            keep=SNAPSHOTS_KEPT,
            state=LearnerState(self._cursor, frozenset(self._ahead)),
        )
        self._pending = 0
        self._last_saved = now
        logger.info("saved model snapshot %d (%d events learned)", version, self._events_learned)
        if self._on_snapshot is not None:
            self._on_snapshot(version)
        return version

    def flush(self) -> int | None:
        """Save a snapshot of what was learned since the last one, if anything was.

        Returns:
            The saved version, or None if there was nothing new (or a rebuild is still
            catching up).

        Raises:
            ConflictError: Another learner saved the same snapshot version.
            StorageError: The database failed.
        """
        with self._lock:
            if not self._pending or not self._publishing:
                return None
            return self._save(self._clock())

    def catch_up(self, max_steps: int | None = None) -> int:
        """Learn every event that is ready now, then save a snapshot.

        Args:
            max_steps: Stop after this many batches (None: until nothing is ready).

        Returns:
            How many events were learned.

        Raises:
            ConflictError: Another learner saved the same snapshot version.
            StorageError: The database failed.
        """
        total, steps = 0, 0
        while max_steps is None or steps < max_steps:
            result = self.step()
            total += result.learned
            steps += 1
            if result.learned == 0:
                break
        with self._lock:
            self._publishing = True
        self.flush()
        return total

    def run(
        self,
        stop: threading.Event,
        *,
        interval_s: float | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        """Learn until ``stop`` is set, then save what is left.

        Args:
            stop: Set it to end the loop (a signal handler, or the serving process closing).
            interval_s: Seconds between passes when nothing is ready; default
                ``ARTWORK_LEARN_INTERVAL_S``.
            wake: Set it to start a pass at once (a reward was recorded).

        Raises:
            ConflictError: Another learner saved the same snapshot version.
            StorageError: The database failed.
        """
        interval = self._settings.learn_interval_s if interval_s is None else interval_s
        if interval <= 0:
            raise ValueError(f"interval_s must be > 0, got {interval}")
        try:
            while not stop.is_set():
                result = self.step()
                if result.learned >= self.batch_size:
                    continue  # more is ready: no pause
                if wake is None:
                    stop.wait(interval)
                else:
                    wake.wait(interval)
                    wake.clear()
        finally:
            self.flush()


def _utcnow() -> datetime:
    return datetime.now(UTC)

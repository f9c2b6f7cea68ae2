"""Writing the log off the request path: group commit of decisions, homepage rows and rewards.

A homepage makes about 200 decisions; writing them in the request's own transaction made
every page wait for the database. Here requests hand their decisions (and the page's rows)
to a bounded in-memory queue and return; one thread per process commits whatever is queued
in one transaction, as often as the database allows and at least every ``flush_s``. When
the queue is full the request is refused (:class:`~artwork.errors.OverloadedError`, HTTP 503
with ``Retry-After``) instead of memory growing without bound.

Guarantees: a clean shutdown (:meth:`DecisionWriter.close`) writes everything queued; a
``kill -9`` loses at most what was queued since the last commit (one flush window, plus the
commit in flight). Rewards are different: a client is told a reward is recorded only once
it is committed, so :class:`RewardWriter` makes each request wait for its batch's commit,
many requests sharing one commit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from artwork.bandit.log import DecisionLog
from artwork.domain import Decision, RowImpression
from artwork.errors import OverloadedError, StorageError

logger = logging.getLogger(__name__)

ImpressionWriter = Callable[[Connection, Sequence[RowImpression]], None]
"""Inserts homepage rows in the caller's transaction (``Catalog.write_impressions``)."""

MAX_BATCH = 50_000
"""Decisions and rows committed in one transaction at most."""

EARLY_COMMIT = 20_000
"""Decisions and rows queued that are committed at once, without waiting out the window."""

RETRY_S = 0.5
"""Pause after a failed commit before the batch is tried again."""

_LAGS_KEPT = 2048


@dataclass(frozen=True, slots=True)
class WriterStatus:
    """What the decision writer is doing: for health checks and metrics."""

    alive: bool
    queued: int
    capacity: int
    committed: int
    dropped: int
    lag_ms_p99: float


class DecisionWriter:
    """A bounded queue of decisions and homepage rows, committed in batches by one thread.

    Args:
        engine: The database.
        log: Writes decisions (and their feature bodies) in a transaction.
        impressions: Writes homepage rows in a transaction; None: rows are not logged.
        capacity: Decisions plus rows queued at most.
        flush_s: The group-commit window: what is queued is committed once its first item has
            waited this long (sooner when :meth:`flush` is called, the queue holds
            ``EARLY_COMMIT`` items or the writer stops). Each commit rewrites every index page
            its rows touched (decisions are indexed by event, member and title), so a window of
            many pages costs far less per page than a commit per page.
        autostart: Start the thread at the first submission (False: only :meth:`start`).

    Raises:
        ValueError: ``capacity`` < 1 or ``flush_s`` <= 0.
    """

    def __init__(
        self,
        engine: Engine,
        log: DecisionLog,
        impressions: ImpressionWriter | None = None,
        *,
        capacity: int = 200_000,
        flush_s: float = 0.05,
        autostart: bool = True,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if flush_s <= 0:
            raise ValueError(f"flush_s must be > 0, got {flush_s}")
        self._engine = engine
        self._log = log
        self._impressions = impressions
        self._capacity = capacity
        self._flush_s = flush_s
        self._autostart = autostart
        self._queue: deque[tuple[Sequence[Decision], Sequence[RowImpression]]] = deque()
        self._size = 0
        self._submitted = 0  # submissions accepted
        self._done = 0  # submissions committed (or dropped)
        self._committed = 0  # decisions committed
        self._dropped = 0
        self._lags: deque[float] = deque(maxlen=_LAGS_KEPT)
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._window_opened = 0.0  # time.monotonic() of the first item queued since a commit
        self._flushes_wanted = 0

    def start(self) -> DecisionWriter:
        """Start the writer thread (once); returns self."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="artwork-decision-writer", daemon=True
                )
                self._thread.start()
        return self

    def submit(self, items: Sequence[Decision], impressions: Sequence[RowImpression] = ()) -> None:
        """Queue a page's decisions (and its rows) to be written; returns at once.

        Raises:
            OverloadedError: The queue is full: the caller should refuse the request.
        """
        count = len(items) + len(impressions)
        if not count:
            return
        with self._cond:
            if self._stopping:
                raise OverloadedError("the decision log is shutting down; retry shortly")
            if self._size + count > self._capacity and self._size > 0:
                raise OverloadedError(
                    f"the decision log is {self._size} items behind (ARTWORK_DECISION_QUEUE_SIZE"
                    f" {self._capacity}); the database cannot keep up, retry shortly",
                    retry_after_s=1,
                )
            if not self._queue:
                self._window_opened = time.monotonic()
            self._queue.append((items, impressions))
            self._size += count
            self._submitted += 1
            if self._thread is None and self._autostart:
                self.start()
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted before this call is written.

        Returns:
            False if ``timeout`` passed first.
        """
        with self._cond:
            target = self._submitted
            if self._done >= target:
                return True
            self._flushes_wanted += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: self._done >= target, timeout)
            finally:
                self._flushes_wanted -= 1

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        elif self._queue:
            self._write_queued()

    def status(self) -> WriterStatus:
        """Queue depth, counts and the 99th percentile of the time from decision to commit."""
        with self._cond:
            lags = sorted(self._lags)
            p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else 0.0
            thread = self._thread
            return WriterStatus(
                alive=thread is not None and thread.is_alive(),
                queued=self._size,
                capacity=self._capacity,
                committed=self._committed,
                dropped=self._dropped,
                lag_ms_p99=p99,
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._stopping, self._flush_s)
                if not self._queue and self._stopping:
                    return
                # Group commit: the window's pages gather into one transaction.
                self._cond.wait_for(self._window_closed, self._window_left())
            if self._queue:
                self._write_queued()

    def _window_left(self) -> float:
        return max(0.0, self._window_opened + self._flush_s - time.monotonic())

    def _window_closed(self) -> bool:
        return (
            self._stopping
            or self._flushes_wanted > 0
            or self._size >= EARLY_COMMIT
            or self._window_left() == 0.0
        )

    def _write_queued(self) -> None:
        with self._cond:
            batch: list[tuple[Sequence[Decision], Sequence[RowImpression]]] = []
            size = 0
            while self._queue and size < MAX_BATCH:
                entry = self._queue.popleft()
                batch.append(entry)
                size += len(entry[0]) + len(entry[1])
        made = [d for entry in batch for d in entry[0]]
        rows = [r for entry in batch for r in entry[1]]
        while True:
            try:
                with self._engine.begin() as conn:
                    stored = self._log.write(conn, made)
                    if rows and self._impressions is not None:
                        self._impressions(conn, rows)
                self._log.remember(stored)
                break
            except (IntegrityError, ValueError) as exc:
                # Not going to succeed on a retry (an event id logged twice, a bad decision).
                logger.error("dropping %d decisions the log refuses: %s", len(made), exc)
                with self._cond:
                    self._dropped += len(made)
                made = []
                break
            except SQLAlchemyError as exc:
                logger.warning("cannot write %d decisions yet, retrying: %s", len(made), exc)
                time.sleep(RETRY_S)
        now = datetime.now(UTC)
        with self._cond:
            self._size -= size
            self._done += len(batch)
            self._committed += len(made)
            if made:
                self._lags.append((now - made[0].created_at).total_seconds() * 1000.0)
            self._cond.notify_all()


@dataclass(frozen=True, slots=True)
class PendingReward:
    """A reward to record: the decision's stored key, value and arrival time."""

    key: str
    value: float
    received_at: datetime


class RewardWriter:
    """Records rewards durably before answering, many requests sharing one commit.

    Args:
        engine: The database.
        log: Inserts the rewards in a transaction.
        timeout_s: Longest a request waits for its commit.
        before_retry: Called once before a failed batch is tried again: databases created
            before rewards lost their foreign key refuse a reward whose decision is still
            queued, so the decision writer's flush goes here.
    """

    def __init__(
        self,
        engine: Engine,
        log: DecisionLog,
        *,
        timeout_s: float = 30.0,
        before_retry: Callable[[], object] | None = None,
    ) -> None:
        self._engine = engine
        self._log = log
        self._timeout_s = timeout_s
        self._before_retry = before_retry
        self._pending: list[tuple[PendingReward, _Answer]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None  # the writer thread's own

    def record(self, reward: PendingReward) -> bool:
        """Record a reward and wait until it is committed.

        Returns:
            True if recorded; False if the event already had a reward (the first stands).

        Raises:
            StorageError: The database failed, or the commit took longer than the timeout.
        """
        future = self.submit(reward)
        try:
            return future.result(self._timeout_s)
        except TimeoutError:
            raise self._too_slow(reward) from None

    async def record_async(self, reward: PendingReward) -> bool:
        """:meth:`record` for an event loop: the commit is awaited, no thread waits for it.

        The answer is an asyncio future of the caller's loop, which the writer settles with
        one call into the loop per batch (a thread's future wrapped for the loop cost a
        thread-safe callback, and a wake-up of the loop, per reward). A request that stops
        waiting (its timeout, or a client gone) cancels only its own answer; the reward is
        committed with its batch.
        """
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._enqueue(reward, waiter)
        try:
            return await asyncio.wait_for(waiter, self._timeout_s)
        except TimeoutError:
            raise self._too_slow(reward) from None

    def submit(self, reward: PendingReward) -> Future[bool]:
        """Queue a reward; the future says whether it was recorded once it is committed.

        Raises:
            OverloadedError: The writer is shutting down.
        """
        future: Future[bool] = Future()
        self._enqueue(reward, future)
        return future

    def _enqueue(self, reward: PendingReward, future: _Answer) -> None:
        with self._cond:
            if self._stopping:
                raise OverloadedError("the reward log is shutting down; retry shortly")
            self._pending.append((reward, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="artwork-reward-writer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _too_slow(self, reward: PendingReward) -> StorageError:
        """The error of a reward whose commit took longer than the timeout."""
        return StorageError(
            f"the reward of {reward.key!r} was not committed within {self._timeout_s:g} s"
        )

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is pending and stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._stopping)
                batch, self._pending = self._pending, []
                if not batch and self._stopping:
                    self._disconnect()
                    return
            items = [(r.key, r.value, r.received_at) for r, _ in batch]
            try:
                recorded = self._commit(items)
            except SQLAlchemyError as exc:
                if self._before_retry is None:
                    self._fail(batch, exc)
                    continue
                self._before_retry()
                try:
                    recorded = self._commit(items)
                except SQLAlchemyError as again:
                    self._fail(batch, again)
                    continue
            _answer([future for _, future in batch], recorded)

    def _commit(self, items: list[tuple[str, float, datetime]]) -> list[bool]:
        """Insert a batch in one transaction on the writer's own connection.

        The thread keeps one connection: checking one out of the pool for every batch cost
        pool bookkeeping and a liveness ping (a round trip on PostgreSQL) per commit. After
        any failure the connection is dropped, and a batch that failed because the database
        had dropped it is tried once more on a new one.
        """
        for attempt in range(2):
            if self._connection is None:
                self._connection = self._connect()
            try:
                with self._connection.begin():
                    return self._log.insert_rewards(self._connection, items)
            except SQLAlchemyError as exc:
                self._disconnect()
                if attempt or not (isinstance(exc, DBAPIError) and exc.connection_invalidated):
                    raise
        raise AssertionError("unreachable")

    def _connect(self) -> Connection:
        """The writer's connection. On PostgreSQL a batch is one statement
        (:meth:`DecisionLog.insert_rewards`), atomic by itself: in autocommit it is its own
        transaction, one round trip to the server where ``BEGIN``, the insert and ``COMMIT``
        took three (and as many hand-overs of the interpreter lock between this thread and
        the event loop answering the requests)."""
        connection = self._engine.connect()
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
            except SQLAlchemyError as exc:  # already broken: nothing to give back
                logger.debug("closing the reward writer's connection failed: %s", exc)

    @staticmethod
    def _fail(batch: list[tuple[PendingReward, _Answer]], exc: Exception) -> None:
        error = StorageError(f"cannot record {len(batch)} rewards: {exc}")
        _answer([future for _, future in batch], [error] * len(batch))


_Answer = Future[bool] | asyncio.Future[bool]
"""Where a queued reward's outcome goes: a thread's future, or a future of an event loop."""


def _answer(futures: Sequence[_Answer], outcomes: Sequence[bool | Exception]) -> None:
    """Settle a batch's futures: threads' at once, event loops' with one call into each loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | Exception]]]
    by_loop = {}
    for future, outcome in zip(futures, outcomes, strict=True):
        if isinstance(future, Future):
            _settle(future, outcome)
        else:
            by_loop.setdefault(future.get_loop(), []).append((future, outcome))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_on_loop, answers)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            logger.debug("an event loop closed before %d rewards were answered", len(answers))


def _settle(future: Future[bool], outcome: bool | Exception) -> None:
    """Answer a waiting request; one that stopped waiting (its future cancelled) is skipped."""
    if not future.set_running_or_notify_cancel():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle_on_loop(answers: list[tuple[asyncio.Future[bool], bool | Exception]]) -> None:
    """On the event loop: answer the requests still waiting (a cancelled one is skipped)."""
    for future, outcome in answers:
        if future.done():
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

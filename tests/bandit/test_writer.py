"""The group-commit writers: batches committed together, a full queue sheds load, a clean
close writes everything, and a reward is answered only once it is committed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, event, func, select, text

from artwork.bandit import writer as writer_module
from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.log import DecisionLog
from artwork.bandit.writer import DecisionWriter, PendingReward, RewardWriter
from artwork.catalog.database import create_database_engine
from artwork.catalog.repository import write_impressions
from artwork.catalog.schema import homepage_impressions, rewards
from artwork.config import Settings
from artwork.domain import Decision, RowImpression
from artwork.errors import OverloadedError, StorageError
from artwork.testing.postgres import postgres_engine

from .test_artwork_bandit import CONTEXT, VARIANTS


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


def decisions(engine: Engine, count: int) -> list[Decision]:
    bandit = ArtworkBandit(engine, Settings(), rng=np.random.default_rng(1))
    return [bandit.decide(CONTEXT, "t1", VARIANTS) for _ in range(count)]


def impression(index: int) -> RowImpression:
    return RowImpression(
        f"i{index}", datetime.now(UTC), "u1", "row_ranking", "fitted:1:1", 0, "top", "top",
        1.0, ("t1",), {"score": 1.0},
    )  # fmt: skip


def test_what_is_submitted_is_committed_with_its_rows(engine: Engine) -> None:
    log = DecisionLog(engine)
    writer = DecisionWriter(engine, log, write_impressions, flush_s=0.01).start()
    made = decisions(engine, 30)
    for start in range(0, 30, 10):
        writer.submit(made[start : start + 10], [impression(start)])
    assert writer.flush(timeout=10)
    assert log.count() == 30
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(homepage_impressions)) == 3
    assert [e.decision for e in log.events_after(0, 100)] == made
    writer.close()


def test_pages_within_one_window_share_a_commit_and_flush_cuts_the_window_short(
    engine: Engine,
) -> None:
    log = DecisionLog(engine)
    commits: list[int] = []
    write = log.write

    def counted(conn: Any, items: Any) -> set[str]:
        commits.append(len(items))
        return write(conn, items)

    log.write = counted  # type: ignore[method-assign]
    writer = DecisionWriter(engine, log, flush_s=30.0).start()
    made = decisions(engine, 40)
    for start in range(0, 40, 10):
        writer.submit(made[start : start + 10])
    assert log.count() == 0 and commits == []  # the window is open: nothing committed yet
    started = time.monotonic()
    assert writer.flush(timeout=10)
    assert time.monotonic() - started < 5.0  # a flush does not wait out the 30 s window
    assert commits == [40] and log.count() == 40
    writer.close()


def test_a_full_queue_refuses_with_retry_after(engine: Engine) -> None:
    log = DecisionLog(engine)
    writer = DecisionWriter(engine, log, capacity=5, autostart=False)  # nothing drains
    made = decisions(engine, 8)
    writer.submit(made[:5])
    with pytest.raises(OverloadedError) as refused:
        writer.submit(made[5:6])
    assert refused.value.retry_after_s >= 1 and refused.value.code == "overloaded"
    assert writer.status().queued == 5
    writer.close()  # a clean close writes what was queued
    assert log.count() == 5


def test_close_writes_everything_queued(engine: Engine) -> None:
    log = DecisionLog(engine)
    writer = DecisionWriter(engine, log, flush_s=5.0).start()
    made = decisions(engine, 50)
    for decision in made:
        writer.submit([decision])
    writer.close()
    assert log.count() == 50
    with pytest.raises(OverloadedError):
        writer.submit(made[:1])


def test_rewards_share_commits_and_each_event_records_once(any_engine: Engine) -> None:
    # PostgreSQL's reward writer commits each batch as one autocommitted statement, SQLite's
    # in a transaction.
    log = DecisionLog(any_engine)
    writer = RewardWriter(any_engine, log)
    now = datetime.now(UTC)
    results: list[bool] = []
    lock = threading.Lock()

    def post(index: int) -> None:
        recorded = writer.record(PendingReward(f"e{index % 20}", 1.0, now))
        with lock:
            results.append(recorded)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert sum(results) == 20 and len(results) == 60
    assert all(log.reward_of(f"e{i}") == 1.0 for i in range(20))


def test_rewards_awaited_on_an_event_loop_are_committed_and_a_request_that_gives_up_is_skipped(
    engine: Engine,
) -> None:
    log = DecisionLog(engine)
    writer = RewardWriter(engine, log)
    now = datetime.now(UTC)
    abandoned = writer.submit(PendingReward("gone", 1.0, now))
    abandoned.cancel()  # its request stopped waiting; the writer must carry on

    async def post_many() -> list[bool]:
        return list(
            await asyncio.gather(
                *(writer.record_async(PendingReward(f"a{i % 5}", 1.0, now)) for i in range(15))
            )
        )

    results = asyncio.run(post_many())
    writer.close()
    assert sum(results) == 5 and len(results) == 15
    assert all(log.reward_of(f"a{i}") == 1.0 for i in range(5))


def test_a_failed_reward_batch_is_retried_once_after_the_hook(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    flushed: list[bool] = []
    writer = RewardWriter(engine, DecisionLog(engine), before_retry=lambda: flushed.append(True))
    original = writer._commit
    failures = iter([True])

    def flaky(items: list[tuple[str, float, datetime]]) -> list[bool]:
        if next(failures, False):
            raise OperationalError("INSERT", {}, Exception("foreign key (decision still queued)"))
        return original(items)

    monkeypatch.setattr(writer, "_commit", flaky)
    assert writer.record(PendingReward("e1", 1.0, datetime.now(UTC))) is True
    assert flushed == [True]
    writer.close()


def test_the_reward_writer_keeps_one_connection(engine: Engine) -> None:
    log = DecisionLog(engine)  # reads the database once as it opens
    checkouts: list[object] = []
    checkins: list[object] = []
    event.listen(engine, "checkout", lambda *args: checkouts.append(args))
    event.listen(engine, "checkin", lambda *args: checkins.append(args))
    writer = RewardWriter(engine, log)
    now = datetime.now(UTC)

    assert [writer.record(PendingReward(f"c{i}", 1.0, now)) for i in range(5)] == [True] * 5
    assert (len(checkouts), len(checkins)) == (1, 0)  # five commits, one connection, kept
    writer.close()

    assert (len(checkouts), len(checkins)) == (1, 1)  # given back at close


@pytest.mark.postgres
def test_a_reward_writer_whose_connection_was_dropped_reconnects() -> None:
    engine = postgres_engine()
    log = DecisionLog(engine)
    writer = RewardWriter(engine, log)  # no retry hook: the reconnect alone must do
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(rewards.delete().where(rewards.c.event_id.like("dropped-%")))
        assert writer.record(PendingReward("dropped-1", 1.0, now))
        with engine.connect() as conn:  # the database ends every other session
            conn.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                )
            )
        assert writer.record(PendingReward("dropped-2", 0.5, now))
        assert (log.reward_of("dropped-1"), log.reward_of("dropped-2")) == (1.0, 0.5)
    finally:
        writer.close()
        with engine.begin() as conn:
            conn.execute(rewards.delete().where(rewards.c.event_id.like("dropped-%")))
        engine.dispose()


def test_rewards_awaited_on_a_loop_are_answered_with_one_call_into_it_per_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = RewardWriter(engine, DecisionLog(engine))
    commits: list[int] = []
    settles: list[int] = []
    commit, settle = writer._commit, writer_module._settle_on_loop

    def counted_commit(items: list[Any]) -> list[bool]:
        commits.append(len(items))
        return commit(items)

    def counted_settle(answers: list[Any]) -> None:
        settles.append(len(answers))
        settle(answers)

    monkeypatch.setattr(writer, "_commit", counted_commit)
    monkeypatch.setattr(writer_module, "_settle_on_loop", counted_settle)
    now = datetime.now(UTC)

    async def post_many() -> list[bool]:
        posts = (writer.record_async(PendingReward(f"l{i}", 1.0, now)) for i in range(40))
        return list(await asyncio.gather(*posts))

    assert asyncio.run(post_many()) == [True] * 40
    writer.close()
    assert sum(commits) == sum(settles) == 40
    assert len(settles) == len(commits) < 40  # batches shared commits and answers


def test_a_reward_whose_wait_timed_out_is_still_committed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = DecisionLog(engine)
    writer = RewardWriter(engine, log, timeout_s=0.05)
    commit = writer._commit

    def slow(items: list[Any]) -> list[bool]:
        time.sleep(0.3)
        return commit(items)

    monkeypatch.setattr(writer, "_commit", slow)
    now = datetime.now(UTC)

    async def post(key: str) -> bool:
        return await writer.record_async(PendingReward(key, 1.0, now))

    with pytest.raises(StorageError, match="not committed within"):
        asyncio.run(post("late"))
    monkeypatch.setattr(writer, "_timeout_s", 5.0)
    assert asyncio.run(post("next")) is True  # the writer carried on
    writer.close()
    assert (log.reward_of("late"), log.reward_of("next")) == (1.0, 1.0)

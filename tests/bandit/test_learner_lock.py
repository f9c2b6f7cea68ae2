"""One learner per database: every process tries the lock, one holds it, and another takes
over when the holder dies (real processes, SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.bandit.learner_lock import AdvisoryLock, AlwaysFree, FileLock, learner_lock_for
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import metadata
from artwork.config import Settings
from artwork.testing.postgres import postgres_engine, postgres_url
from artwork.testing.waiting import wait_for
from artwork.wiring import Services

POSTGRES_URL = postgres_url()

_HOLDER = """
import sys, time
from pathlib import Path
from artwork.bandit.learner_lock import FileLock
lock = FileLock(Path(sys.argv[1]))
assert lock.try_acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_the_file_lock_passes_to_another_process_when_its_holder_is_killed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "artwork.db.learner.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = FileLock(path)
        assert not mine.try_acquire() and not mine.held
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        assert wait_for(mine.try_acquire)
        assert mine.held and path.read_text().strip() == str(os.getpid())
        mine.release()
        assert not mine.held
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_the_lock_kind_follows_the_database(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(learner_lock_for(engine), FileLock)
    memory = create_database_engine("sqlite://")
    assert isinstance(learner_lock_for(memory), AlwaysFree)
    engine.dispose()
    memory.dispose()


def _two_services(settings: Settings) -> tuple[Services, Services]:
    first, second = Services.from_settings(settings), Services.from_settings(settings)
    for services in (first, second):
        assert services.bandit is not None  # starts its bandit thread (it tries the lock)
    return first, second


def _exactly_one_learner(settings: Settings) -> None:
    first, second = _two_services(settings)
    try:
        assert wait_for(lambda: first.learner_status().learning or second.learner_status().learning)
        time.sleep(1.5)  # several passes of both workers: the other never starts learning
        learning = [s.learner_status().learning for s in (first, second)]
        assert sorted(learning) == [False, True]
        holder, other = (first, second) if learning[0] else (second, first)
        holder.close()  # the holder stops; the other takes over
        assert wait_for(lambda: other.learner_status().learning)
        status = other.learner_status()
        assert status.worker_alive and status.queue_capacity == settings.decision_queue_size
    finally:
        first.close()
        second.close()


def test_two_serving_processes_on_sqlite_run_one_learner(tmp_path: Path) -> None:
    _exactly_one_learner(
        Settings(home=tmp_path / "home", learn_interval_s=0.1, learner="background")
    )


@pytest.fixture
def postgres() -> Iterator[Engine]:
    engine = postgres_engine(fresh_schema=True)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


@pytest.mark.postgres
def test_the_advisory_lock_is_held_by_one_session(postgres: Engine) -> None:
    other = create_database_engine(POSTGRES_URL)
    try:
        first, second = AdvisoryLock(postgres), AdvisoryLock(other)
        assert first.try_acquire() and first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
        second.release()
    finally:
        other.dispose()


@pytest.mark.postgres
def test_two_replicas_on_postgres_run_one_learner(postgres: Engine, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=POSTGRES_URL,
        learn_interval_s=0.1,
        learner="background",
    )
    _exactly_one_learner(settings)

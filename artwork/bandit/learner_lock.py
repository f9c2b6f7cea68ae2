"""Exactly one learner per database, and another takes over when it dies.

Every learner keeps trying to take the learner lock (``artwork learn``, which is also the
learner process ``artwork serve`` starts, and serving workers with ``ARTWORK_LEARNER=background``);
the one that holds it learns, the others only follow its snapshots. The lock dies with its holder,
so when that process is killed another one takes it at its next try and continues from the
newest snapshot (the learner's state makes that exact, see :mod:`artwork.bandit.learner`).

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection kept
  for nothing else; the server releases it when the connection or the process ends.
- SQLite: ``fcntl.flock`` on ``<database file>.learner.lock``, which the kernel releases when
  the process ends; so several worker processes on one machine share one learner.
- An in-memory SQLite database lives in one process: the lock is always free.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

ADVISORY_KEY = 0x4152_5457_4C45_4152 & 0x7FFF_FFFF_FFFF_FFFF
"""The PostgreSQL advisory lock key of the artwork learner ("ARTWLEAR")."""


class LearnerLock(ABC):
    """A lock held by at most one process per database; released when the holder dies."""

    @abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if it is free (never blocks); True if this process holds it now."""

    @abstractmethod
    def release(self) -> None:
        """Let go of the lock (if held)."""

    @property
    @abstractmethod
    def held(self) -> bool:
        """Whether this process holds the lock (as far as it can tell without asking)."""


class AlwaysFree(LearnerLock):
    """For a database only this process can see (in-memory SQLite)."""

    def __init__(self) -> None:
        self._held = False

    def try_acquire(self) -> bool:
        self._held = True
        return True

    def release(self) -> None:
        self._held = False

    @property
    def held(self) -> bool:
        return self._held


class FileLock(LearnerLock):
    """``flock`` on a file: one holder among the processes of one machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self._handle is not None:
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "ab")  # noqa: SIM115 - held open while the lock is held
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._handle = handle
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            return True

    def release(self) -> None:
        with self._lock:
            if self._handle is not None:
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
                self._handle.close()
                self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None


class AdvisoryLock(LearnerLock):
    """A PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self._conn is not None:
                if self._alive(self._conn):
                    return True
                self._drop()
            try:
                conn = self._engine.connect()
                got = bool(
                    conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
                )
                conn.commit()  # the lock is the session's: no transaction stays open
            except SQLAlchemyError as exc:
                logger.warning("cannot try the learner lock: %s", exc)
                return False
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True

    def release(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                    self._conn.commit()
                except SQLAlchemyError:
                    pass  # closing the connection releases it anyway
                self._drop()

    @property
    def held(self) -> bool:
        return self._conn is not None

    def _alive(self, conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except SQLAlchemyError:
            logger.warning("lost the learner lock's connection")
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None


def learner_lock_for(engine: Engine) -> LearnerLock:
    """The learner lock of the database behind ``engine``."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(engine)
    database = url.database
    if not database or database == ":memory:":
        return AlwaysFree()
    return FileLock(Path(f"{database}.learner.lock"))

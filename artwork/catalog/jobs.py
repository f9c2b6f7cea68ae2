"""Upload jobs: an uploaded video waiting for, or going through, extraction.

States: ``queued`` ─▶ ``running`` ─▶ ``succeeded`` | ``failed``. Each job records its owner
(``host:pid``). At start-up :meth:`JobStore.fail_abandoned` fails the unfinished jobs of
processes on this host that are gone, and any unfinished job untouched for a long time
(its owner on another host died); a live replica's jobs are left alone.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping

from artwork.catalog.schema import jobs
from artwork.errors import JobNotFoundError

JobState = Literal["queued", "running", "succeeded", "failed"]
UNFINISHED: tuple[JobState, ...] = ("queued", "running")
#: An unfinished job not updated for this long is taken as abandoned, whoever owns it.
STALE_AFTER = timedelta(hours=6)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
    """Whether a process of this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    kind: str
    title_id: str
    state: JobState
    progress: float
    message: str
    key_id: str
    created_at: datetime
    updated_at: datetime


class JobStore:
    """Jobs in the ``jobs`` table. Safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, kind: str, title_id: str, key_id: str) -> Job:
        now = datetime.now(UTC)
        job = Job(secrets.token_hex(8), kind, title_id, "queued", 0.0, "", key_id, now, now)
        with self.engine.begin() as conn:
            conn.execute(
                insert(jobs).values(
                    job_id=job.job_id,
                    kind=kind,
                    title_id=title_id,
                    state=job.state,
                    progress=0.0,
                    message="",
                    key_id=key_id,
                    owner=this_process(),
                    created_at=now,
                    updated_at=now,
                )
            )
        return job

    def get(self, job_id: str) -> Job:
        """Raises: JobNotFoundError."""
        with self.engine.connect() as conn:
            found = conn.execute(select(jobs).where(jobs.c.job_id == job_id)).mappings().first()
        if found is None:
            raise JobNotFoundError(f"no job {job_id!r}; POST /v1/titles answers with its job id")
        return _job(found)

    def update(
        self,
        job_id: str,
        *,
        state: JobState | None = None,
        progress: float | None = None,
        message: str | None = None,
    ) -> None:
        values: dict[str, object] = {"updated_at": datetime.now(UTC)}
        if state is not None:
            values["state"] = state
        if progress is not None:
            values["progress"] = min(1.0, max(0.0, progress))
        if message is not None:
            values["message"] = message[:2000]
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.job_id == job_id).values(**values))

    def count(self, state: JobState) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(jobs.c.job_id).where(jobs.c.state == state)).all())

    def fail_abandoned(self) -> int:
        """Fail unfinished jobs whose process is gone; returns how many.

        Gone: a process of this host that no longer runs (or whose pid is this process's,
        reused after a restart), or any owner when the job has not moved for
        :data:`STALE_AFTER`.
        """
        host, me = socket.gethostname(), os.getpid()
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(jobs.c.job_id, jobs.c.owner, jobs.c.updated_at).where(
                    jobs.c.state.in_(UNFINISHED)
                )
            ).all()
        abandoned = []
        for job_id, owner, updated_at in rows:
            owner_host, _, pid = str(owner).rpartition(":")
            mine = owner_host == host and pid.isdigit()
            if (mine and (int(pid) == me or not process_alive(int(pid)))) or (
                now - updated_at > STALE_AFTER
            ):
                abandoned.append(job_id)
        if abandoned:
            with self.engine.begin() as conn:
                conn.execute(
                    update(jobs)
                    .where(jobs.c.job_id.in_(abandoned), jobs.c.state.in_(UNFINISHED))
                    .values(
                        state="failed",
                        message="the server stopped before the job finished; upload again",
                        updated_at=now,
                    )
                )
        return len(abandoned)


def _job(row: RowMapping) -> Job:
    return Job(
        job_id=row["job_id"],
        kind=row["kind"],
        title_id=row["title_id"],
        state=row["state"],
        progress=row["progress"],
        message=row["message"],
        key_id=row["key_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )

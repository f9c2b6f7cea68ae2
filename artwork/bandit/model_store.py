"""Model snapshots: the learner's published models, each with what it has learned.

A snapshot is saved together with the learner's state (its cursor and the events after the
cursor it has already learned) in one transaction, so the snapshot says exactly which events
its model has learned. Serving processes poll :meth:`ModelStore.latest_version` and load
:meth:`ModelStore.latest_snapshot`; a restarted learner resumes from
:meth:`ModelStore.latest_checkpoint`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from artwork.catalog.database import storage_errors
from artwork.catalog.schema import bandit_learner_state, bandit_models
from artwork.errors import ConflictError, StorageError


@dataclass(frozen=True, slots=True)
class LearnerState:
    """What a model has learned: every decision up to ``cursor`` and those in ``ahead``."""

    cursor: int
    ahead: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The newest snapshot with its learner state (None for snapshots of older artwork)."""

    version: int
    data: bytes
    events_learned: int
    state: LearnerState | None


class ModelStore:
    """SQL-backed model snapshots; safe to share between threads.

    Args:
        engine: Engine from :func:`artwork.catalog.database.create_database_engine`.
        clock: Returns the current time (timezone-aware) for snapshot timestamps.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def save_snapshot(
        self,
        version: int,
        policy_config: Mapping[str, str | float],
        events_learned: int,
        data: bytes,
        *,
        keep: int | None = None,
        state: LearnerState | None = None,
    ) -> None:
        """Store a model snapshot (and the learner state behind it), optionally dropping all
        but the newest ``keep`` snapshots, in one transaction.

        Args:
            version: Model version; each version is stored once.
            policy_config: The policy's configuration.
            events_learned: How many events the model has learned from.
            data: The snapshot bytes.
            keep: When given, snapshots older than the newest ``keep`` are deleted.
            state: What the model has learned: saved with it, so a restarted learner resumes
                exactly (nothing learned twice, nothing skipped).

        Raises:
            ValueError: ``version``, ``events_learned`` or the cursor is negative, or
                ``keep`` < 1.
            ConflictError: A snapshot of this version exists (another process learns from the
                same database).
            StorageError: The database failed.
        """
        if version < 0:
            raise ValueError(f"version must be >= 0, got {version}")
        if events_learned < 0:
            raise ValueError(f"events_learned must be >= 0, got {events_learned}")
        if keep is not None and keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        if state is not None and state.cursor < 0:
            raise ValueError(f"state.cursor must be >= 0, got {state.cursor}")
        row = {
            "version": version,
            "created_at": self._clock(),
            "policy": dict(policy_config),
            "events_learned": events_learned,
            "data": data,
        }
        try:
            with storage_errors(f"save model snapshot {version}"), self.engine.begin() as conn:
                conn.execute(insert(bandit_models).values(**row))
                if state is not None:
                    conn.execute(
                        insert(bandit_learner_state).values(
                            version=version,
                            cursor_seq=state.cursor,
                            learned_ahead=sorted(state.ahead),
                        )
                    )
                if keep is not None:
                    oldest_kept = conn.scalar(
                        select(bandit_models.c.version)
                        .order_by(bandit_models.c.version.desc())
                        .offset(keep - 1)
                        .limit(1)
                    )
                    if oldest_kept is not None:
                        conn.execute(
                            delete(bandit_learner_state).where(
                                bandit_learner_state.c.version < oldest_kept
                            )
                        )
                        conn.execute(
                            delete(bandit_models).where(bandit_models.c.version < oldest_kept)
                        )
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise ConflictError(
                    f"a model snapshot of version {version} already exists: another process "
                    "is learning from the same database; run a single learner"
                ) from exc
            raise

    def latest_version(self) -> int | None:
        """The newest snapshot's version, or None: a cheap query for serving processes to poll.

        Raises:
            StorageError: The database failed.
        """
        with storage_errors("read model snapshots"), self.engine.connect() as conn:
            version = conn.scalar(select(func.max(bandit_models.c.version)))
        return None if version is None else int(version)

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """The newest model snapshot as ``(version, data)``, or None if none was saved.

        Raises:
            StorageError: The database failed.
        """
        checkpoint = self.latest_checkpoint()
        return None if checkpoint is None else (checkpoint.version, checkpoint.data)

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest snapshot with its learner state, or None if none was saved.

        Raises:
            StorageError: The database failed.
        """
        query = (
            select(
                bandit_models.c.version,
                bandit_models.c.data,
                bandit_models.c.events_learned,
                bandit_learner_state.c.cursor_seq,
                bandit_learner_state.c.learned_ahead,
            )
            .select_from(
                bandit_models.outerjoin(
                    bandit_learner_state,
                    bandit_learner_state.c.version == bandit_models.c.version,
                )
            )
            .order_by(bandit_models.c.version.desc())
            .limit(1)
        )
        with storage_errors("read model snapshots"), self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        state = None
        if row.cursor_seq is not None:
            state = LearnerState(int(row.cursor_seq), frozenset(int(s) for s in row.learned_ahead))
        return Checkpoint(int(row.version), bytes(row.data), int(row.events_learned), state)

"""The decision log: every artwork choice, the reward it earned, and the model snapshots.

Decisions are append-only: they are the training data of the learner and the evidence of
off-policy evaluation, so they are never edited. A reward is recorded at most once per event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from artwork.catalog.schema import bandit_models, decisions, rewards
from artwork.domain import Decision, Reward
from artwork.errors import ConflictError, EventNotFoundError, StorageError


class DecisionLog:
    """SQL-backed log of decisions, rewards and model snapshots; safe to share between threads.

    Args:
        engine: Engine from :func:`artwork.catalog.database.create_database_engine`.
        clock: Returns the current time (timezone-aware) for snapshot timestamps.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or _utcnow

    # --- decisions ----------------------------------------------------------------------------
    def append(self, decision: Decision) -> None:
        """Log a decision.

        Args:
            decision: The decision; its event id must be new.

        Raises:
            ValueError: The decision's actions, features and probabilities disagree.
            ConflictError: A decision with this event id is already logged.
            StorageError: The database failed.
        """
        _check_decision(decision)
        row = {
            "event_id": decision.event_id,
            "created_at": decision.created_at,
            "user_id": decision.user_id,
            "title_id": decision.title_id,
            "context": _plain(decision.context),
            "action_ids": list(decision.action_ids),
            "action_features": [_plain(features) for features in decision.action_features],
            "probabilities": [float(p) for p in decision.probabilities],
            "chosen_index": decision.chosen_index,
            "model_version": decision.model_version,
            "policy": dict(decision.policy),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(decisions).values(**row))
        except IntegrityError as exc:
            raise ConflictError(
                f"event id {decision.event_id!r} is already logged; decisions are append-only"
            ) from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot log decision {decision.event_id!r}: {exc}") from exc

    def get(self, event_id: str) -> Decision:
        """The decision logged under ``event_id``.

        Raises:
            EventNotFoundError: No decision has this event id.
            StorageError: The database failed.
        """
        try:
            with self.engine.connect() as conn:
                row = (
                    conn.execute(select(decisions).where(decisions.c.event_id == event_id))
                    .mappings()
                    .first()
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read decision {event_id!r}: {exc}") from exc
        if row is None:
            raise EventNotFoundError(
                f"unknown event id {event_id!r}: no artwork decision was logged under it; "
                "event ids come from artwork responses (the event_id next to each image)"
            )
        return _decision(row)

    # --- rewards ------------------------------------------------------------------------------
    def record_reward(self, event_id: str, value: float, received_at: datetime) -> bool:
        """Record the reward of an event, once.

        Args:
            event_id: Event id of a logged decision.
            value: Finite reward.
            received_at: When the reward arrived (timezone-aware).

        Returns:
            True if recorded; False if this event already had a reward (the first one stands).

        Raises:
            ValueError: ``value`` is not finite or ``received_at`` is naive.
            EventNotFoundError: No decision has this event id.
            StorageError: The database failed.
        """
        if not math.isfinite(value):
            raise ValueError(f"value must be finite, got {value}")
        if received_at.tzinfo is None:
            raise ValueError(f"received_at must be timezone-aware, got {received_at!r}")
        row = {"event_id": event_id, "value": float(value), "received_at": received_at}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(rewards).values(**row))
            return True
        except IntegrityError as exc:
            # Either the reward is already there (idempotent repeat) or the event is unknown.
            if self.get_reward(event_id) is not None:
                return False
            self.get(event_id)  # raises EventNotFoundError when the decision is missing
            raise StorageError(f"cannot record reward of {event_id!r}: {exc}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot record reward of {event_id!r}: {exc}") from exc

    def get_reward(self, event_id: str) -> Reward | None:
        """The reward recorded for ``event_id``, or None if none was.

        Raises:
            StorageError: The database failed.
        """
        try:
            with self.engine.connect() as conn:
                row = (
                    conn.execute(select(rewards).where(rewards.c.event_id == event_id))
                    .mappings()
                    .first()
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read reward of {event_id!r}: {exc}") from exc
        if row is None:
            return None
        return Reward(row["event_id"], row["value"], row["received_at"])

    def reward_of(self, event_id: str) -> float | None:
        """The reward value recorded for ``event_id``, or None if none was.

        Raises:
            StorageError: The database failed.
        """
        reward = self.get_reward(event_id)
        return None if reward is None else reward.value

    # --- model snapshots ----------------------------------------------------------------------
    def save_snapshot(
        self,
        version: int,
        policy_config: Mapping[str, str | float],
        events_learned: int,
        data: bytes,
        *,
        keep: int | None = None,
    ) -> None:
        """Store a model snapshot, and optionally drop all but the newest ``keep``.

        Args:
            version: Model version; each version is stored once.
            policy_config: The policy's configuration.
            events_learned: How many rewarded events the model has learned from.
            data: The snapshot bytes.
            keep: When given, snapshots older than the newest ``keep`` are deleted in the same
                transaction (a snapshot per reward would otherwise grow the table without end).

        Raises:
            ValueError: ``version`` or ``events_learned`` is negative, or ``keep`` < 1.
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
        row = {
            "version": version,
            "created_at": self._clock(),
            "policy": dict(policy_config),
            "events_learned": events_learned,
            "data": data,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(bandit_models).values(**row))
                if keep is not None:
                    oldest_kept = conn.scalar(
                        select(bandit_models.c.version)
                        .order_by(bandit_models.c.version.desc())
                        .offset(keep - 1)
                        .limit(1)
                    )
                    if oldest_kept is not None:
                        conn.execute(
                            delete(bandit_models).where(bandit_models.c.version < oldest_kept)
                        )
        except IntegrityError as exc:
            raise ConflictError(
                f"a model snapshot of version {version} already exists: another process is "
                "learning from the same database; run a single learner"
            ) from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save model snapshot {version}: {exc}") from exc

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """The newest model snapshot as ``(version, data)``, or None if none was saved.

        Raises:
            StorageError: The database failed.
        """
        query = (
            select(bandit_models.c.version, bandit_models.c.data)
            .order_by(bandit_models.c.version.desc())
            .limit(1)
        )
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read model snapshots: {exc}") from exc
        return None if row is None else (int(row.version), bytes(row.data))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _plain(space: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    return {
        namespace: {k: float(v) for k, v in features.items()}
        for namespace, features in space.items()
    }


def _check_decision(decision: Decision) -> None:
    count = len(decision.action_ids)
    if count == 0:
        raise ValueError(f"decision {decision.event_id!r}: action_ids must not be empty")
    if len(decision.action_features) != count or len(decision.probabilities) != count:
        raise ValueError(
            f"decision {decision.event_id!r}: action_ids, action_features and probabilities "
            f"must have the same length, got {count}, {len(decision.action_features)}, "
            f"{len(decision.probabilities)}"
        )
    if not 0 <= decision.chosen_index < count:
        raise ValueError(
            f"decision {decision.event_id!r}: chosen_index must be in 0..{count - 1}, "
            f"got {decision.chosen_index}"
        )
    if not 0.0 < decision.chosen_probability <= 1.0:
        raise ValueError(
            f"decision {decision.event_id!r}: the chosen action's probability must be in "
            f"(0, 1], got {decision.chosen_probability}"
        )
    if decision.created_at.tzinfo is None:
        raise ValueError(f"decision {decision.event_id!r}: created_at must be timezone-aware")


def _decision(row: RowMapping) -> Decision:
    features: Any = row["action_features"]
    return Decision(
        event_id=row["event_id"],
        created_at=row["created_at"],
        user_id=row["user_id"],
        title_id=row["title_id"],
        context=row["context"],
        action_ids=tuple(row["action_ids"]),
        action_features=tuple(features),
        probabilities=tuple(float(p) for p in row["probabilities"]),
        chosen_index=row["chosen_index"],
        model_version=row["model_version"],
        policy=row["policy"],
    )

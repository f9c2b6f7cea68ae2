"""The artwork bandit as a service: choose a title's artwork for a member, learn from rewards.

``choose`` asks the policy for a distribution over the title's approved variants, draws one,
and logs the decision with everything needed to learn from it later (features, probabilities,
model version). ``reward`` joins a reward to its decision, learns from it at once and saves a
new model snapshot, so a restarted service (or another replica) resumes where this one stopped.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine

from artwork.bandit.base import ArtworkPolicy, get_policy_class, load_policy
from artwork.bandit.features import action_features, shared_features
from artwork.bandit.log import DecisionLog
from artwork.bandit.vw_policy import VWPolicy
from artwork.config import Settings
from artwork.domain import Context, Decision, Variant, VariantStatus
from artwork.errors import ModelError

DEFAULT_POLICY = VWPolicy.name
SNAPSHOTS_KEPT = 10
"""Model snapshots kept in the database; older ones are deleted as new ones are saved."""


@dataclass(frozen=True, slots=True)
class RewardOutcome:
    """What became of a reward: whether it was learned, and the model version afterwards."""

    event_id: str
    value: float
    learned: bool
    model_version: int


class ArtworkBandit:
    """Chooses artwork and learns from rewards; safe to share between threads.

    Args:
        engine: Database holding the decision log and model snapshots.
        settings: Settings (``epsilon``).
        rng: Random generator for drawing actions; default: freshly seeded.
        clock: Returns the current timezone-aware time; default: UTC now.

    Raises:
        ModelError: The newest snapshot cannot be loaded.
        StorageError: The database failed.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        rng: np.random.Generator | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._settings = settings
        self._rng = rng if rng is not None else np.random.default_rng()
        self._clock = clock or _utcnow
        self._log = DecisionLog(engine, clock=self._clock)
        self._policy = self._load_policy()
        self._rng_lock = threading.Lock()
        # Held while reading pmf + version (choose) or changing them (reward): a decision
        # records the version that produced its probabilities.
        self._model_lock = threading.Lock()
        # Serialises the reward path: record, learn, snapshot, in version order.
        self._learn_lock = threading.Lock()

    def _load_policy(self) -> ArtworkPolicy:
        latest = self._log.latest_snapshot()
        if latest is None:
            return get_policy_class(DEFAULT_POLICY).from_settings(self._settings)
        version, data = latest
        policy = load_policy(data, self._settings)
        if policy.version != version:
            raise ModelError(
                f"model snapshot {version} holds a policy of version {policy.version}; "
                "the bandit_models table is inconsistent"
            )
        return policy

    @property
    def log(self) -> DecisionLog:
        """The decision log this bandit writes to."""
        return self._log

    @property
    def policy(self) -> ArtworkPolicy:
        """The policy currently serving."""
        return self._policy

    @property
    def model_version(self) -> int:
        """Version of the serving model."""
        return self._policy.version

    def choose(self, context: Context, title_id: str, variants: Sequence[Variant]) -> Decision:
        """Choose one of a title's variants for a member, and log the decision.

        Args:
            context: The member, device and time of the request.
            title_id: The title artwork is chosen for.
            variants: The title's approved variants, in rank order (the action order).

        Returns:
            The logged decision; ``event_id`` is what the client posts its reward against.

        Raises:
            ValueError: ``variants`` is empty, or holds a variant of another title, a variant
                that is not approved, or the same variant twice; or ``context`` is invalid.
            StorageError: The decision could not be logged.
        """
        decision = self._decide(context, title_id, variants)
        self._log.append(decision)
        return decision

    def _decide(self, context: Context, title_id: str, variants: Sequence[Variant]) -> Decision:
        """Everything ``choose`` does except logging (benchmarks time the two apart)."""
        _check_variants(title_id, variants)
        shared = shared_features(context)
        actions = tuple(action_features(variant) for variant in variants)
        with self._model_lock:
            probabilities = self._policy.pmf(shared, actions)
            version = self._policy.version
            config = self._policy.config()
        with self._rng_lock:
            draw = float(self._rng.random())
        index = _sample(probabilities, draw)
        return Decision(
            event_id=uuid.uuid4().hex,
            created_at=self._clock(),
            user_id=context.user_id,
            title_id=title_id,
            context=shared,
            action_ids=tuple(variant.variant_id for variant in variants),
            action_features=actions,
            probabilities=tuple(probabilities),
            chosen_index=index,
            model_version=version,
            policy=config,
        )

    def reward(self, event_id: str, value: float) -> RewardOutcome:
        """Record the reward of a decision and learn from it (once per event).

        Args:
            event_id: The event id ``choose`` returned.
            value: Finite reward; higher is better (e.g. 1.0 for a qualified play).

        Returns:
            The outcome; ``learned`` is False when this event had already been rewarded.

        Raises:
            ValueError: ``value`` is not a finite number.
            EventNotFoundError: No decision was logged under ``event_id``.
            ConflictError: Another process saved the same model version.
            StorageError: The database failed.
        """
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"value must be a finite number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"value must be a finite number, got {value!r}")
        decision = self._log.get(event_id)
        with self._learn_lock:
            if not self._log.record_reward(event_id, number, self._clock()):
                return RewardOutcome(
                    event_id, number, learned=False, model_version=self.model_version
                )
            with self._model_lock:
                self._policy.learn(decision, number)
                version = self._policy.version
                config = self._policy.config()
                data = self._policy.snapshot()
            # Learning is synchronous and one event per version, so the version counts events.
            self._log.save_snapshot(version, config, version, data, keep=SNAPSHOTS_KEPT)
        return RewardOutcome(event_id, number, learned=True, model_version=version)


def _check_variants(title_id: str, variants: Sequence[Variant]) -> None:
    if not title_id:
        raise ValueError("title_id must not be empty")
    if not variants:
        raise ValueError(f"title {title_id!r} has no approved variants to choose from")
    seen: set[str] = set()
    for variant in variants:
        if variant.title_id != title_id:
            raise ValueError(
                f"variant {variant.variant_id!r} belongs to title {variant.title_id!r}, "
                f"not {title_id!r}"
            )
        if variant.status != VariantStatus.APPROVED:
            raise ValueError(
                f"variant {variant.variant_id!r} of title {title_id!r} is {variant.status}, "
                "not approved; only approved variants may be shown"
            )
        if variant.variant_id in seen:
            raise ValueError(
                f"variant {variant.variant_id!r} is given twice for title {title_id!r}"
            )
        seen.add(variant.variant_id)


def _sample(probabilities: Sequence[float], draw: float) -> int:
    """Index whose cumulative probability interval holds ``draw`` (in [0, 1))."""
    cumulative = 0.0
    for index, probability in enumerate(probabilities):
        cumulative += probability
        if draw < cumulative:
            return index
    # Rounding left draw above the total: take the last action that can be drawn at all.
    return max(i for i, p in enumerate(probabilities) if p > 0.0)


def _utcnow() -> datetime:
    return datetime.now(UTC)

"""The artwork bandit as a service: choose a title's artwork for a member, record rewards.

``choose`` (one title) and ``choose_many`` (a page) ask the serving policy for a distribution
over each title's approved variants, shape it (cold start, consistency, apprentice mode), draw
one variant and log the decision with everything needed to learn from it and evaluate it later:
features, the final probabilities, model version and policy configuration.

The probability logged for the shown variant is the probability it was shown with, after every
adjustment. With ``pi`` the policy's distribution over ``K`` variants:

1. cold start: ``pi1 = (1 - d) * pi + d / K`` with ``d = cold_start_epsilon * n0 / (n0 + n)``,
   ``n`` the title's impressions so far, ``n0 = cold_start_impressions``;
2. apprentice mode instead: ``pi1 = (1 - e) * [1, 0, ..., 0] + e / K`` (the editorial default,
   ``e = apprentice_epsilon``);
3. consistency: when the member was shown variant ``s`` of this title within the window,
   ``p = (1 - x) * 1[a = s] + x * pi1(a)`` with ``x = consistency_explore``; else ``p = pi1``.

Every decision's event id is signed (:mod:`artwork.bandit.event_ids`) when the bandit has a
signer, and logged through the group-commit writer (:mod:`artwork.bandit.writer`) when it has
one, so a page returns before its decisions are written. A reward against a signed id is
checked from the id alone (forged or altered: ``EventNotFoundError``, no database read; posted
by another principal than the one that asked: the same) and recorded even when its decision
is not written yet.

``reward`` only records (fast, idempotent, refused after the wait window); the
:class:`~artwork.bandit.learner.Learner` learns from the log, saves snapshots, and ``refresh``
hot-swaps serving to the newest one.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine

from artwork.bandit.base import ArtworkPolicy, PolicyConfig
from artwork.bandit.event_ids import EventClaims, EventIdSigner
from artwork.bandit.features import FeatureSpace, action_features, shared_features
from artwork.bandit.log import DecisionLog
from artwork.bandit.registry import load_policy, policy_class_for
from artwork.bandit.rewards import RewardEvent, reward_value
from artwork.bandit.writer import DecisionWriter, PendingReward, RewardWriter
from artwork.config import Settings
from artwork.domain import Context, Decision, DecisionConfig, Variant, VariantStatus
from artwork.errors import EventNotFoundError, ModelError, RewardWindowClosedError

FEATURE_CACHE_SIZE = 100_000
"""Variants whose features are kept in memory; the cache starts over when it is full."""

DECISION_CONFIGS_KEPT = 4096
"""Logged configurations (one per exploration share and sticky variant) kept for reuse."""


@dataclass(frozen=True, slots=True)
class RewardOutcome:
    """What became of a reward: its value, whether it was recorded now, the serving model."""

    event_id: str
    value: float
    recorded: bool
    model_version: int
    #: Seconds from the decision to this reward, where the event id says when it was made.
    join_lag_s: float | None = None


TitleDuration = Callable[[str], float | None]
"""``title_id -> running time in seconds`` (None if unknown), for reward definitions."""


class ArtworkBandit:
    """Chooses artwork and records rewards; safe to share between threads.

    Args:
        engine: Database holding the decision log and model snapshots.
        settings: Bandit settings (exploration, mode, consistency, cold start, rewards).
        rng: Random generator for drawing actions; default: freshly seeded.
        clock: Returns the current timezone-aware time; default: UTC now.
        title_duration: Looks up a title's running time for ``kind``/``seconds`` rewards.
        policy: Serve this policy instead of the newest snapshot (tests, simulations).
        signer: Signs event ids and verifies them on rewards; None: plain random ids.
        writer: Logs decisions off the request path (group commit); None: each page is
            written in its own transaction before it returns.
        reward_writer: Records rewards with group commit; None: one transaction each.

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
        title_duration: TitleDuration | None = None,
        policy: ArtworkPolicy | None = None,
        signer: EventIdSigner | None = None,
        writer: DecisionWriter | None = None,
        reward_writer: RewardWriter | None = None,
    ) -> None:
        self._settings = settings
        self._signer = signer
        self._writer = writer
        self._reward_writer = reward_writer
        self._rng = rng if rng is not None else np.random.default_rng()
        self._rng_lock = threading.Lock()
        self._clock = clock or _utcnow
        self._title_duration = title_duration
        self._log = DecisionLog(engine, clock=self._clock)
        # Requests read self._policy once per decision; refresh() replaces it in one assignment.
        self._policy = policy if policy is not None else self._load_policy()
        self._refresh_lock = threading.Lock()
        self._config: tuple[ArtworkPolicy, PolicyConfig] | None = None
        self._decision_configs: tuple[PolicyConfig | None, dict[tuple[float, str], PolicyConfig]]
        self._decision_configs = (None, {})
        self._features: dict[str, tuple[tuple[int, float], dict[str, dict[str, float]]]] = {}
        # id(variants) -> (variants, title, ids, features): the sequence is kept alive, so
        # its id is not reused while cached.
        self._actions: dict[int, tuple[Sequence[Variant], str, tuple[str, ...], Any]] = {}
        self._impressions: dict[str, int] = {}
        self._counts_lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def _load_policy(self) -> ArtworkPolicy:
        latest = self._log.models.latest_snapshot()
        if latest is None:
            return policy_class_for(self._settings).from_settings(self._settings)
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
    def settings(self) -> Settings:
        """The settings this bandit serves with."""
        return self._settings

    @property
    def policy(self) -> ArtworkPolicy:
        """The policy currently serving."""
        return self._policy

    @property
    def model_version(self) -> int:
        """Version of the serving model."""
        return self._policy.version

    # --- choosing --------------------------------------------------------------------------------
    def choose(
        self,
        context: Context,
        title_id: str,
        variants: Sequence[Variant],
        *,
        principal: str = "",
    ) -> Decision:
        """Choose one of a title's variants for a member, and log the decision.

        Args:
            context: The member, device, time (and optionally profile) of the request.
            title_id: The title artwork is chosen for.
            variants: The title's approved variants, in rank order (the action order).
            principal: Who asks (an API key id), bound into the signed event id.

        Returns:
            The logged decision; ``event_id`` is what the client posts its reward against.

        Raises:
            ValueError: ``variants`` is empty, or holds a variant of another title, a variant
                that is not approved, or the same variant twice; or ``context`` is invalid.
            StorageError: The decision could not be logged.
            OverloadedError: The decision log's queue is full (shed load).
        """
        return self.choose_many(context, [(title_id, variants)], principal=principal)[0]

    def choose_many(
        self,
        context: Context,
        requests: Sequence[tuple[str, Sequence[Variant]]],
        *,
        principal: str = "",
    ) -> list[Decision]:
        """Choose artwork for several titles of one page, logging every decision at once.

        One query finds what the member was shown lately (consistency), one counts the titles'
        impressions the first time they are seen (cold start), one transaction logs the page.

        Args:
            context: The request.
            requests: ``(title_id, approved variants in rank order)`` per title, each title once.
            principal: Who asks (an API key id), bound into each signed event id.

        Returns:
            One decision per request, in request order; logged, or queued to be logged.

        Raises:
            ValueError: A title is given twice, or as in :meth:`choose`.
            StorageError: The database failed; no decision of the page is logged.
            OverloadedError: The decision log's queue is full; nothing of the page is logged.
        """
        title_ids = [title_id for title_id, _ in requests]
        if len(set(title_ids)) != len(title_ids):
            raise ValueError("each title may be chosen for once per page; a title_id repeats")
        titles = [self._title_actions(title_id, variants) for title_id, variants in requests]
        shared = shared_features(context)
        sticky: dict[str, str] = {}
        window = self._settings.consistency_window_s
        if window > 0 and self._settings.consistency_explore < 1.0 and requests:
            since = self._clock() - timedelta(seconds=window)
            sticky = self._log.last_shown(context.user_id, title_ids, since)
        counts = self._impression_counts(title_ids)
        made = self._decide_all(
            context,
            title_ids,
            titles,
            shared=shared,
            sticky=sticky,
            impressions=counts,
            principal=principal,
        )
        if self._writer is not None:
            self._writer.submit(made)
        else:
            self._log.append_many(made)
        with self._counts_lock:
            for title_id in title_ids:
                self._impressions[title_id] = self._impressions.get(title_id, 0) + 1
        return made

    def decide(
        self,
        context: Context,
        title_id: str,
        variants: Sequence[Variant],
        *,
        sticky: str | None = None,
        impressions: int | None = None,
    ) -> Decision:
        """Everything :meth:`choose` does except reading and writing the log.

        Benchmarks time this; simulations and tests may pass what the log would have said.

        Args:
            context: The request.
            title_id: The title.
            variants: Its approved variants, in rank order.
            sticky: The variant the member was last shown for this title within the
                consistency window, if any.
            impressions: The title's impressions so far; default: the count this process knows.

        Raises:
            ValueError: As in :meth:`choose`.
        """
        _check_variants(title_id, variants)
        if impressions is None:
            impressions = self._impressions.get(title_id, 0)
        return self._decide_all(
            context,
            [title_id],
            [self._title_actions(title_id, variants)],
            shared=shared_features(context),
            sticky={title_id: sticky} if sticky is not None else {},
            impressions={title_id: impressions},
        )[0]

    def _decide_all(
        self,
        context: Context,
        title_ids: Sequence[str],
        titles: Sequence[tuple[tuple[str, ...], tuple[dict[str, dict[str, float]], ...]]],
        *,
        shared: FeatureSpace,
        sticky: Mapping[str, str],
        impressions: Mapping[str, int],
        principal: str = "",
    ) -> list[Decision]:
        """The decisions for titles shown together (a page, or one title): each title's
        distribution (policy, cold start, consistency), its draw, event id and configuration.

        Args:
            title_ids: The titles, each once.
            titles: Each title's action ids and features (``_title_actions``).
            shared: The request's features.
            sticky: Per title, the variant the member was last shown within the consistency
                window (titles without one left out).
            impressions: Per title, its impressions so far.
        """
        settings = self._settings
        policy = self._policy  # read once: a concurrent refresh() swaps the whole object
        now = self._clock()  # a page's decisions are made together
        with self._rng_lock:
            draws = self._rng.random(len(title_ids)).tolist()
        # The whole page is scored at once (one pass over the weights for epsilon-greedy).
        pmfs = (
            None
            if settings.bandit_mode == "apprentice"
            else policy.pmf_many(shared, [(actions, keys) for keys, actions in titles])
        )
        if self._signer is not None:
            event_ids = self._signer.issue_many(
                context.user_id, title_ids, issued_at=now, principal=principal
            )
        else:
            event_ids = [uuid.uuid4().hex for _ in title_ids]
        n0 = settings.cold_start_impressions
        cold = settings.cold_start_epsilon * n0
        explore = settings.consistency_explore
        version = policy.version
        made = []
        for i, (title_id, (keys, actions)) in enumerate(zip(title_ids, titles, strict=True)):
            count = len(keys)
            extra = 0.0
            if pmfs is None:
                # The editorial default, rank 0, with an optional uniform share.
                share = settings.apprentice_epsilon / count
                probabilities = [share] * count
                probabilities[0] += 1.0 - settings.apprentice_epsilon
            else:
                probabilities = pmfs[i]
                extra = cold / (n0 + max(impressions[title_id], 0))
                if extra > 0.0:
                    share = extra / count
                    probabilities = [(1.0 - extra) * p + share for p in probabilities]
            shown = sticky.get(title_id)
            if shown is not None and shown in keys:
                probabilities = [explore * p for p in probabilities]
                probabilities[keys.index(shown)] += 1.0 - explore
            else:
                shown = ""
            made.append(
                Decision(
                    event_ids[i],
                    now,
                    context.user_id,
                    title_id,
                    shared,
                    keys,
                    actions,
                    tuple(probabilities),
                    _sample(probabilities, draws[i]),
                    version,
                    self._decision_config(policy, extra, shown),
                )
            )
        return made

    def _decision_config(self, policy: ArtworkPolicy, extra: float, sticky: str) -> PolicyConfig:
        """The configuration logged with a decision: the serving one plus its exploration
        share and sticky variant. Decisions that agree on both share one dict (treat it as
        read-only), and every one refers to the serving configuration as its ``base``, which
        the log stores once."""
        base = self._serving_config(policy)
        cached = self._decision_configs
        if cached[0] is not base:
            cached = (base, {})
            self._decision_configs = cached
        key = (extra, sticky)
        config = cached[1].get(key)
        if config is None:
            config = DecisionConfig(base, {"extra_exploration": extra, "sticky_variant": sticky})
            if len(cached[1]) >= DECISION_CONFIGS_KEPT:
                cached[1].clear()
            cached[1][key] = config
        return config

    def _serving_config(self, policy: ArtworkPolicy) -> PolicyConfig:
        cached = self._config
        if cached is not None and cached[0] is policy:
            return cached[1]
        settings = self._settings
        config = dict(policy.config())
        config |= {
            "mode": settings.bandit_mode,
            "apprentice_epsilon": settings.apprentice_epsilon,
            "cold_start_epsilon": settings.cold_start_epsilon,
            "cold_start_impressions": float(settings.cold_start_impressions),
            "consistency_window_s": settings.consistency_window_s,
            "consistency_explore": settings.consistency_explore,
        }
        self._config = (policy, config)
        return config

    def _title_actions(
        self, title_id: str, variants: Sequence[Variant]
    ) -> tuple[tuple[str, ...], tuple[dict[str, dict[str, float]], ...]]:
        """A title's action ids and features; checked and built once per variants sequence
        (the serving cache hands out the same list until the catalogue changes)."""
        cached = self._actions.get(id(variants))
        if (
            cached is not None
            and cached[0] is variants
            and cached[1] == title_id
            and len(cached[2]) == len(variants)
        ):
            return cached[2], cached[3]
        _check_variants(title_id, variants)
        keys = tuple(variant.variant_id for variant in variants)
        actions = tuple(self._action_features(variant) for variant in variants)
        if len(self._actions) >= FEATURE_CACHE_SIZE:
            self._actions.clear()
        self._actions[id(variants)] = (variants, title_id, keys, actions)
        return keys, actions

    def _action_features(self, variant: Variant) -> dict[str, dict[str, float]]:
        # A variant id's image, scores and tags never change (re-extraction makes new ids), so
        # its features are computed once; rank and score guard against reuse of an id.
        signature = (variant.rank, variant.score)
        cached = self._features.get(variant.variant_id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        features = action_features(variant)
        if len(self._features) >= FEATURE_CACHE_SIZE:
            self._features.clear()
        self._features[variant.variant_id] = (signature, features)
        return features

    def _impression_counts(self, title_ids: Sequence[str]) -> dict[str, int]:
        with self._counts_lock:
            unknown = [t for t in title_ids if t not in self._impressions]
        if unknown:
            found = self._log.impressions(unknown)
            with self._counts_lock:
                for title_id, count in found.items():
                    self._impressions.setdefault(title_id, count)
        with self._counts_lock:
            return {t: self._impressions.get(t, 0) for t in title_ids}

    # --- rewards ---------------------------------------------------------------------------------
    def reward(
        self,
        event_id: str,
        value: float | None = None,
        *,
        event: RewardEvent | None = None,
        principal: str | None = None,
    ) -> RewardOutcome:
        """Record the reward of a decision (once per event, within the wait window).

        Learning happens later, in the learner; this only records, so it is fast. A signed
        event id is checked from the id alone; its decision need not be written yet.

        Args:
            event_id: The event id ``choose`` returned.
            value: Finite reward, taken as is; higher is better.
            event: Instead of ``value``: what happened (a play, seconds watched), mapped to a
                value by the configured reward definition.
            principal: Who posts the reward (an API key id); when given, an event id issued
                to another principal is refused as unknown.

        Returns:
            The outcome; ``recorded`` is False when this event already had a reward: the first
            one stands, and ``value`` is that one.

        Raises:
            ValueError: Neither or both of ``value`` and ``event`` are given, or ``value`` is
                not a finite number.
            EventNotFoundError: No decision was logged under ``event_id``, the id is forged or
                altered, or it was issued to another principal.
            RewardWindowClosedError: The reward came after the reward wait window.
            StorageError: The database failed.
        """
        if (value is None) == (event is None):
            raise ValueError("give exactly one of value and event")
        if value is not None:
            number = _finite(value)
        signed = self._signer is not None and event_id.startswith("e1.")
        if not signed:
            return self._legacy_reward(event_id, value, event)
        claims = self._claims(event_id, principal)
        if event is not None:
            duration = None
            if self._title_duration is not None and self._settings.reward_definition != "play":
                duration = self._title_duration(claims.title_id)
            number = reward_value(event, duration, self._settings)
        received_at = self._clock()
        wait_s = self._settings.reward_wait_s
        late = _age_s(received_at, claims)
        if late > wait_s:
            stored = self._log.reward_of(claims.key)
            if stored is not None:
                return RewardOutcome(event_id, stored, False, self.model_version)
            raise RewardWindowClosedError(
                f"the reward of event {event_id[:80]!r} came {late:.0f} s after its decision, "
                f"after the {wait_s:g} s reward wait window (ARTWORK_REWARD_WAIT_S); the "
                "default reward applies to it"
            )
        pending = PendingReward(claims.key, number, received_at)
        if self._reward_writer is not None:
            recorded = self._reward_writer.record(pending)
        else:
            recorded = self._log.record_rewards([(claims.key, number, received_at)])[0]
        lag_s = (received_at - claims.issued_at).total_seconds()
        return self._outcome(event_id, claims.key, number, recorded, lag_s)

    async def reward_async(
        self, event_id: str, value: float, *, principal: str | None = None
    ) -> RewardOutcome | None:
        """:meth:`reward` of a value against a signed event id, for an event loop: the id is
        checked in memory and the commit awaited, so no thread waits for it.

        Returns:
            The outcome; None where :meth:`reward` must be called instead, in a worker thread,
            because the answer needs a database read (an unsigned id, a reward after the wait
            window, an event that already had a reward) or there is no reward writer.

        Raises:
            As :meth:`reward`.
        """
        number = _finite(value)
        if self._signer is None or self._reward_writer is None or not event_id.startswith("e1."):
            return None
        claims = self._claims(event_id, principal)
        received_at = self._clock()
        if _age_s(received_at, claims) > self._settings.reward_wait_s:
            return None  # late: the stored reward (or the refusal) is read from the log
        recorded = await self._reward_writer.record_async(
            PendingReward(claims.key, number, received_at)
        )
        if not recorded:
            return None  # a repeat: the first reward stands, and is read from the log
        lag_s = (received_at - claims.issued_at).total_seconds()
        return self._outcome(event_id, claims.key, number, True, lag_s)

    def _claims(self, event_id: str, principal: str | None) -> EventClaims:
        """The claims of a signed event id, refused as unknown when issued to another
        principal than ``principal`` (None: anyone may post it)."""
        assert self._signer is not None
        claims = self._signer.verify(event_id)
        if principal is not None and claims.principal and claims.principal != principal:
            raise EventNotFoundError(
                f"no decision was made under event id {event_id[:80]!r}: post the event_id "
                "exactly as the homepage or artwork response gave it"
            )
        return claims

    def _legacy_reward(
        self, event_id: str, value: float | None, event: RewardEvent | None
    ) -> RewardOutcome:
        """A reward against an unsigned id (older decisions, imports): looked up in the log."""
        if event is not None:
            duration = None
            if self._title_duration is not None and self._settings.reward_definition != "play":
                duration = self._title_duration(self._log.get(event_id).title_id)
            number = reward_value(event, duration, self._settings)
        else:
            number = float(value)  # type: ignore[arg-type]
        recorded = self._log.record_reward(
            event_id, number, self._clock(), wait_s=self._settings.reward_wait_s
        )
        return self._outcome(event_id, event_id, number, recorded)

    def _outcome(
        self,
        event_id: str,
        key: str,
        number: float,
        recorded: bool,
        join_lag_s: float | None = None,
    ) -> RewardOutcome:
        if recorded:
            for listener in list(self._listeners):
                listener()
        else:
            stored = self._log.reward_of(key)
            number = number if stored is None else stored
        return RewardOutcome(event_id, number, recorded, self.model_version, join_lag_s)

    def add_reward_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every recorded reward (the in-process learner wakes up)."""
        self._listeners.append(listener)

    # --- hot swap --------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Serve the newest model snapshot if it is newer than the serving one.

        Loading happens here, off the request path; requests in flight finish on the model
        they started with, and the next ones use the new model (one reference assignment).

        Returns:
            True if a newer model now serves.

        Raises:
            ModelError: The newest snapshot cannot be loaded (the old model keeps serving).
            StorageError: The database failed.
        """
        with self._refresh_lock:
            latest = self._log.models.latest_version()
            if latest is None or latest <= self._policy.version:
                return False
            snapshot = self._log.models.latest_snapshot()
            if snapshot is None:
                return False
            version, data = snapshot
            policy = load_policy(data, self._settings)
            if policy.version != version:
                raise ModelError(
                    f"model snapshot {version} holds a policy of version {policy.version}"
                )
            policy.inherit_cache(self._policy)
            self._policy = policy
            return True


def _age_s(received_at: datetime, claims: EventClaims) -> float:
    """Seconds from a signed decision to its reward, less one: the claim has whole seconds, at
    most one before the decision, so a reward is late only past the window by this measure."""
    return (received_at - claims.issued_at).total_seconds() - 1.0


def _finite(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"value must be a finite number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"value must be a finite number, got {value!r}")
    return number


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

"""The evaluation loop: score every target on the resolved logged events with every estimator.

Every logged decision holds the probability ``mu(a)`` its shown variant ``a`` was drawn with and
the reward ``r`` it earned (or the default reward once its wait window closed). A target
``pi`` is replayed over the log in order: for each event it gives its distribution ``pi(.)``
*before* learning from that event (progressive validation, as Personalizer's offline
evaluation does), then learns from it. The reward model ``q`` is cross-fitted
(:mod:`artwork.bandit.ope.reward_model`). From these the per-event terms
(:class:`~artwork.bandit.ope.base.ScoredEvents`) go to every registered estimator.

The logging policy (``logged``) is on-policy: ``w = 1`` for every event. Its DR direct term
``sum_a mu(a) q(a)`` needs ``mu`` for every action; where a log recorded only the shown action's
probability (an imported DSJSON log without ``p``, marked ``policy["pmf"] = "partial"``), the
term is ``q(a_i)`` instead, whose expectation under ``mu`` is the same.

Estimates are kept in the reward range (by default [0, 1], widened to every reward in the log):
intervals are cut to it, and a point estimate outside it is moved to the nearest end and flagged
``clipped``. ``ess = (sum w)^2 / sum w^2``; a policy whose ESS is below ``min_ess`` gets a
warning, as does one that puts probability on variants the log never showed (``unsupported``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from artwork.bandit.features import DEFAULT_INTERACTIONS
from artwork.bandit.log import DecisionLog, LoggedEvent
from artwork.bandit.ope.base import PARTIAL_PMF, Estimate, ScoredEvents, effective_sample_size
from artwork.bandit.ope.registry import ESTIMATORS, get_estimator
from artwork.bandit.ope.replay import rejection_sample
from artwork.bandit.ope.reward_model import DEFAULT_FOLDS, CrossFittedRewardModel
from artwork.bandit.ope.specs import AlwaysTarget, LoggedTarget, TargetPolicy
from artwork.bandit.vw_policy import DEFAULT_BITS
from artwork.config import Settings
from artwork.domain import Decision

MIN_ESS = 100.0
"""Below this effective sample size, a policy's estimates come with a warning."""


@dataclass(frozen=True, slots=True)
class Event:
    """One resolved logged decision: what was shown with which probabilities, and its reward."""

    decision: Decision
    reward: float


@dataclass(frozen=True, slots=True)
class PolicyEvaluation:
    """The estimates of one target policy over the evaluated events."""

    name: str
    estimates: Mapping[str, Estimate]
    events: int
    ess: float
    replay_kept: int
    unsupported: float
    warnings: tuple[str, ...] = ()


def resolved_events(log: DecisionLog, settings: Settings, now: datetime) -> tuple[list[Event], int]:
    """The log's events that have a reward, or whose window closed (default reward), in order.

    Args:
        log: The decision log.
        settings: ``reward_wait_s``, ``default_reward``.
        now: The evaluation time.

    Returns:
        The events, and how many decisions are still pending (left out).

    Raises:
        StorageError: The database failed.
    """
    return events_from(log.iter_events(), settings, now)


def events_from(
    logged: Iterable[LoggedEvent], settings: Settings, now: datetime
) -> tuple[list[Event], int]:
    """As :func:`resolved_events`, from already-read logged events."""
    closed_before = now - timedelta(seconds=settings.reward_wait_s)
    events: list[Event] = []
    pending = 0
    for item in logged:
        if item.reward is not None:
            events.append(Event(item.decision, item.reward.value))
        elif item.decision.created_at <= closed_before:
            events.append(Event(item.decision, settings.default_reward))
        else:
            pending += 1
    return events, pending


def reward_range(
    events: Sequence[Event], default: tuple[float, float] = (0.0, 1.0)
) -> tuple[float, float]:
    """``default`` widened to every reward in ``events``."""
    rewards = [event.reward for event in events]
    return min([default[0], *rewards]), max([default[1], *rewards])


def evaluate(
    events: Sequence[Event],
    targets: Sequence[TargetPolicy],
    *,
    warmup: int = 0,
    confidence: float = 0.95,
    bootstrap: int = 0,
    seed: int = 0,
    estimators: Sequence[str] | None = None,
    bounds: tuple[float, float] | None = None,
    folds: int = DEFAULT_FOLDS,
    bits: int = DEFAULT_BITS,
    interactions: Sequence[tuple[str, str]] = DEFAULT_INTERACTIONS,
    min_ess: float = MIN_ESS,
) -> list[PolicyEvaluation]:
    """Estimate each target's mean reward per decision on the logged events.

    Args:
        events: Resolved events in log order.
        targets: Policies to evaluate; each learns from every event after it is scored.
        warmup: The first ``warmup`` events are only learned from, not scored.
        confidence: Confidence level of the intervals, in (0, 1).
        bootstrap: Bootstrap resamples for the intervals; 0 uses normal intervals.
        seed: Seed of replay's rejection sampling and of the bootstrap.
        estimators: Estimator names (default: every registered one, in registry order).
        bounds: The reward range (default :func:`reward_range` of the events).
        folds: Cross-fitting folds of DR's reward model.
        bits: Hash bits of the reward model.
        interactions: Namespace pairs the reward model crosses.
        min_ess: Effective sample size below which a policy gets a warning.

    Returns:
        One evaluation per target, in the order given.

    Raises:
        ValueError: ``confidence`` not in (0, 1), ``warmup`` or ``bootstrap`` negative, an
            unknown estimator, a target's distribution that does not fit the decision, or
            no event left to score.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if warmup < 0 or bootstrap < 0:
        raise ValueError(f"warmup and bootstrap must be >= 0, got {warmup} and {bootstrap}")
    chosen_estimators = [get_estimator(name) for name in (estimators or ESTIMATORS)]
    scored = len(events) - warmup
    if scored < 1:
        raise ValueError(
            f"no event to evaluate: {len(events)} resolved events, warmup {warmup}; "
            "log decisions (and wait for rewards or their window) first"
        )
    low, high = bounds if bounds is not None else reward_range(events)
    if not low <= high:
        raise ValueError(f"bounds must be (low, high) with low <= high, got {bounds}")
    pairs = [(event.decision, event.reward) for event in events]
    model = CrossFittedRewardModel(folds, bits=bits, interactions=interactions)
    q_all = model.predict(pairs[warmup:], (low, high), extra=pairs[:warmup])

    shape = (len(targets), scored)
    weights, direct = np.zeros(shape), np.zeros(shape)
    unsupported = np.zeros(shape)
    rewards = np.asarray([reward for _, reward in pairs[warmup:]], dtype=np.float64)
    q_chosen = np.asarray(
        [q[decision.chosen_index] for (decision, _), q in zip(pairs[warmup:], q_all, strict=True)]
    )
    for position, (decision, reward) in enumerate(pairs):
        row = position - warmup
        if row >= 0:
            chosen = decision.chosen_index
            mu = decision.probabilities
            q = q_all[row].tolist()
            partial = decision.policy.get("pmf") == PARTIAL_PMF
            for c, target in enumerate(targets):
                if isinstance(target, LoggedTarget):
                    weights[c, row] = 1.0
                    direct[c, row] = (
                        q[chosen]
                        if partial
                        else math.fsum(m * value for m, value in zip(mu, q, strict=True))
                    )
                    continue
                pi = _checked(target, decision)
                weights[c, row] = pi[chosen] / mu[chosen]
                direct[c, row] = math.fsum(p * value for p, value in zip(pi, q, strict=True))
                unsupported[c, row] = math.fsum(p for p, m in zip(pi, mu, strict=True) if m <= 0)
        for target in targets:
            target.learn(decision, reward)

    uniforms = np.random.default_rng([seed, 1]).random(shape)
    rng = np.random.default_rng([seed, 2])
    results = []
    for c, target in enumerate(targets):
        terms = ScoredEvents(
            rewards=rewards,
            weights=weights[c],
            direct=direct[c],
            q_chosen=q_chosen,
            accepted=rejection_sample(weights[c], uniforms[c]),
            bounds=(low, high),
        )
        estimates = {}
        for estimator in chosen_estimators:
            raw = (
                estimator.bootstrap_interval(terms, confidence, bootstrap, rng)
                if bootstrap
                else estimator.estimate_interval(terms, confidence)
            )
            estimates[estimator.name] = _bounded(raw, low, high)
        ess = effective_sample_size(weights[c])
        share = float(unsupported[c].mean())
        results.append(
            PolicyEvaluation(
                name=target.name,
                estimates=estimates,
                events=scored,
                ess=ess,
                replay_kept=int(terms.accepted.sum()),
                unsupported=share,
                warnings=_warnings(target, estimates, ess, share, min_ess, (low, high)),
            )
        )
    return results


def _checked(target: TargetPolicy, decision: Decision) -> list[float]:
    pi = [float(p) for p in target.pmf(decision)]
    count = len(decision.action_ids)
    if len(pi) != count or not all(0.0 <= p < math.inf for p in pi):
        raise ValueError(
            f"policy {target.name!r} gave {pi} for event {decision.event_id} "
            f"with {count} actions; it must give {count} finite probabilities >= 0"
        )
    total = math.fsum(pi)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"policy {target.name!r}: probabilities for event {decision.event_id} "
            f"sum to {total}, not 1"
        )
    return pi


def _bounded(estimate: Estimate, low: float, high: float) -> Estimate:
    value = estimate.value
    clipped = math.isfinite(value) and not low <= value <= high
    if clipped:
        value = min(max(value, low), high)
    lo = estimate.low if math.isnan(estimate.low) else min(max(estimate.low, low), high)
    hi = estimate.high if math.isnan(estimate.high) else min(max(estimate.high, low), high)
    return Estimate(value, lo, hi, clipped)


def _warnings(
    target: TargetPolicy,
    estimates: Mapping[str, Estimate],
    ess: float,
    unsupported: float,
    min_ess: float,
    bounds: tuple[float, float],
) -> tuple[str, ...]:
    notes = []
    if ess < min_ess:
        notes.append(
            f"effective sample size {ess:.1f} is below {min_ess:g}: too few logged choices "
            "resemble this policy's to trust its estimates"
        )
    if unsupported > 0:
        notes.append(
            f"{unsupported:.1%} of its probability is on variants the log never showed; "
            "IPS, SNIPS and DR cannot see that mass"
        )
    clipped = [name for name, e in estimates.items() if e.clipped]
    if clipped:
        notes.append(
            f"estimate(s) {', '.join(clipped)} fell outside the reward range "
            f"[{bounds[0]:g}, {bounds[1]:g}] and were moved to its end"
        )
    flat = [name for name, e in estimates.items() if e.low == e.high]
    if flat:
        notes.append(
            f"interval(s) of {', '.join(flat)} have no width: the reward never varied among "
            "the events they weigh, which says little about how it would vary"
        )
    if isinstance(target, AlwaysTarget) and target.fallbacks:
        notes.append(
            f"{target.fallbacks} events lacked the variant; the editorial default stood in"
        )
    return tuple(notes)

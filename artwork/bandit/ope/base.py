"""The off-policy estimator interface: per-event terms in, a value and its interval out.

Modelled on Open Bandit Pipeline's ``BaseOffPolicyEstimator``: an estimator is a small object
that turns what the log says about each scored event (:class:`ScoredEvents`) into an estimate of
a target policy's mean reward per decision, with a confidence interval. Every estimator reads
the same terms, so a new one is one class and one line in :mod:`artwork.bandit.ope.registry`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from statistics import NormalDist
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

PARTIAL_PMF = "partial"
"""``Decision.policy["pmf"]`` of a decision whose log kept only the shown action's probability
(the others in ``Decision.probabilities`` are a guess, never read by the estimators)."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its confidence interval.

    ``clipped`` says the estimator's own value fell outside the reward range and was moved to
    its nearest end (an IPS estimate above the largest possible reward, say); the interval is
    always cut to the reward range, where the truth lies.
    """

    value: float
    low: float
    high: float
    clipped: bool = False


@dataclass(frozen=True, slots=True)
class ScoredEvents:
    """What every estimator needs to know about the scored events of one target policy ``pi``.

    Per event ``i`` with logged action ``a_i``, logging probability ``mu_i = mu(a_i|x_i)`` and
    reward ``r_i``:

    - ``rewards``: ``r_i``;
    - ``weights``: ``w_i = pi(a_i|x_i) / mu_i``;
    - ``direct``: ``sum_a pi(a|x_i) q(x_i, a)``, the reward model's value of ``pi``;
    - ``q_chosen``: ``q(x_i, a_i)``, the reward model's prediction for the logged action;
    - ``accepted``: whether replay's rejection sampling kept the event (see
      :class:`artwork.bandit.ope.replay.Replay`);
    - ``bounds``: the range every reward lies in.
    """

    rewards: FloatArray
    weights: FloatArray
    direct: FloatArray
    q_chosen: FloatArray
    accepted: NDArray[np.bool_]
    bounds: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        n = len(self.rewards)
        for name in ("weights", "direct", "q_chosen", "accepted"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have {n} entries, got {len(getattr(self, name))}")

    def __len__(self) -> int:
        return len(self.rewards)

    def take(self, index: NDArray[np.intp]) -> ScoredEvents:
        """The events at ``index`` (a bootstrap resample)."""
        return ScoredEvents(
            self.rewards[index],
            self.weights[index],
            self.direct[index],
            self.q_chosen[index],
            self.accepted[index],
            self.bounds,
        )


class OffPolicyEstimator(ABC):
    """Estimates a target policy's mean reward per decision from :class:`ScoredEvents`."""

    name: ClassVar[str]
    """Registry key and column name in reports."""

    formula: ClassVar[str]
    """The estimate in one line, for documentation and ``--help``."""

    @abstractmethod
    def estimate_policy_value(self, events: ScoredEvents) -> float:
        """The point estimate (NaN when the events say nothing about the policy)."""

    @abstractmethod
    def standard_error(self, events: ScoredEvents) -> float:
        """The estimate's standard error under the normal approximation (NaN if undefined)."""

    def estimate_interval(self, events: ScoredEvents, confidence: float = 0.95) -> Estimate:
        """The point estimate with a normal confidence interval.

        Args:
            events: The scored events.
            confidence: Interval level, in (0, 1).

        Raises:
            ValueError: ``confidence`` is not in (0, 1).
        """
        z = normal_quantile(confidence)
        value = self.estimate_policy_value(events)
        spread = z * self.standard_error(events)
        return Estimate(value, value - spread, value + spread)

    def bootstrap_interval(
        self,
        events: ScoredEvents,
        confidence: float,
        resamples: int,
        rng: np.random.Generator,
    ) -> Estimate:
        """The point estimate with a percentile bootstrap interval over events.

        Args:
            events: The scored events.
            confidence: Interval level, in (0, 1).
            resamples: Bootstrap resamples (>= 1).
            rng: Source of the resamples.

        Raises:
            ValueError: ``confidence`` is not in (0, 1) or ``resamples`` < 1.
        """
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        if resamples < 1:
            raise ValueError(f"resamples must be >= 1, got {resamples}")
        value = self.estimate_policy_value(events)
        n = len(events)
        draws = [
            self.estimate_policy_value(events.take(rng.integers(0, n, size=n)))
            for _ in range(resamples)
        ]
        finite = np.asarray([d for d in draws if math.isfinite(d)])
        if finite.size == 0:
            return Estimate(value, math.nan, math.nan)
        tail = (1.0 - confidence) / 2.0 * 100.0
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        return Estimate(value, float(low), float(high))


def normal_quantile(confidence: float) -> float:
    """The ``z`` of a two-sided normal interval at level ``confidence``.

    Raises:
        ValueError: ``confidence`` is not in (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def mean_and_error(terms: FloatArray) -> tuple[float, float]:
    """The mean of per-event terms and its standard error (NaN with fewer than two terms)."""
    n = len(terms)
    if n == 0:
        return math.nan, math.nan
    mean = float(terms.mean())
    error = float(terms.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return mean, error


def effective_sample_size(weights: FloatArray) -> float:
    """``(sum w)^2 / sum w^2``: how many on-policy events the weighted log is worth."""
    squares = float((weights**2).sum())
    return float(weights.sum()) ** 2 / squares if squares > 0 else 0.0

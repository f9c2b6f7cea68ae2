"""Inverse propensity scoring, plain and self-normalised."""

from __future__ import annotations

import math
from typing import ClassVar

from artwork.bandit.ope.base import OffPolicyEstimator, ScoredEvents, mean_and_error


class InverseProbabilityWeighting(OffPolicyEstimator):
    """IPS: ``mean(w r)``; unbiased wherever ``mu > 0`` where ``pi > 0``; normal interval."""

    name: ClassVar[str] = "ips"
    formula: ClassVar[str] = "mean(w r)"

    def estimate_policy_value(self, events: ScoredEvents) -> float:
        return mean_and_error(events.weights * events.rewards)[0]

    def standard_error(self, events: ScoredEvents) -> float:
        return mean_and_error(events.weights * events.rewards)[1]


class SelfNormalizedInverseProbabilityWeighting(OffPolicyEstimator):
    """SNIPS: ``sum(w r) / sum(w)``; slightly biased, far less variable.

    Its interval comes from the delta method: the estimate is a ratio of two means, and its
    standard error is ``sqrt(sum(w^2 (r - V)^2)) / sum(w)``.
    """

    name: ClassVar[str] = "snips"
    formula: ClassVar[str] = "sum(w r) / sum(w)"

    def estimate_policy_value(self, events: ScoredEvents) -> float:
        total = float(events.weights.sum())
        return float((events.weights * events.rewards).sum()) / total if total > 0 else math.nan

    def standard_error(self, events: ScoredEvents) -> float:
        total = float(events.weights.sum())
        if not total > 0 or len(events) < 2:
            return math.nan
        residual = events.weights * (events.rewards - self.estimate_policy_value(events))
        n = len(events)
        # n / (n - 1): the same small-sample correction as the other estimators' ddof=1.
        return math.sqrt(float((residual**2).sum()) * n / (n - 1)) / total

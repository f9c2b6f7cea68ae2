"""Replay (Li et al., 2011), generalised to any logging policy by rejection sampling.

Classic replay keeps the events where the target would have shown what the log shows and
averages their rewards; that is unbiased only when the log explored uniformly at random. Here
each event is kept with probability ``w_i / M``, with ``w_i = pi(a_i|x_i) / mu(a_i|x_i)`` and
``M = max_i w_i``: the kept events are then draws from ``pi``'s own distribution of actions
(rejection sampling; Li et al. 2011, Dudik et al. 2012), whatever ``mu`` was. On a uniform log
and a deterministic target, ``w`` is ``K`` on matches and 0 elsewhere, so exactly the
matches are kept, as in classic replay; the logging policy itself keeps every event.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from artwork.bandit.ope.base import (
    Estimate,
    FloatArray,
    OffPolicyEstimator,
    ScoredEvents,
    mean_and_error,
    normal_quantile,
)


def rejection_sample(weights: FloatArray, uniforms: FloatArray) -> np.ndarray:
    """Which events replay keeps: ``u_i < w_i / max(w)``.

    Args:
        weights: ``w_i`` per event.
        uniforms: One draw from U[0, 1) per event (seeded by the caller).
    """
    top = float(weights.max()) if len(weights) else 0.0
    if not top > 0:
        return np.zeros(len(weights), dtype=bool)
    return np.asarray(uniforms < weights / top)


class Replay(OffPolicyEstimator):
    """Mean reward of the events rejection sampling kept, with a Wilson score interval.

    Replay often keeps few events, and on a click log all of them may be 0: the normal
    interval of that mean is then ``[0, 0]``. The Wilson interval of the reward rescaled to
    the reward range is not (it is exact in spirit for 0/1 rewards and conservative for other
    bounded ones, whose variance is at most a Bernoulli's of the same mean).
    """

    name: ClassVar[str] = "replay"
    formula: ClassVar[str] = "mean(r) over events kept with probability w / max(w)"

    def estimate_policy_value(self, events: ScoredEvents) -> float:
        kept = events.rewards[events.accepted]
        return float(kept.mean()) if kept.size else math.nan

    def standard_error(self, events: ScoredEvents) -> float:
        return mean_and_error(events.rewards[events.accepted])[1]

    def estimate_interval(self, events: ScoredEvents, confidence: float = 0.95) -> Estimate:
        z = normal_quantile(confidence)
        value = self.estimate_policy_value(events)
        n = int(events.accepted.sum())
        low, high = events.bounds
        if n == 0:
            return Estimate(value, math.nan, math.nan)
        if not high > low:
            return Estimate(value, low, high)
        share = min(max((value - low) / (high - low), 0.0), 1.0)
        denominator = 1.0 + z * z / n
        centre = (share + z * z / (2 * n)) / denominator
        half = z / denominator * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
        scale = high - low
        return Estimate(value, low + scale * (centre - half), low + scale * (centre + half))

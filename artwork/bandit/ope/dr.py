"""Doubly robust estimation (Dudik, Langford and Li, 2011)."""

from __future__ import annotations

from typing import ClassVar

from artwork.bandit.ope.base import FloatArray, OffPolicyEstimator, ScoredEvents, mean_and_error


class DoublyRobust(OffPolicyEstimator):
    """DR: ``mean(sum_a pi(a) q(a) + w (r - q(a_i)))``; normal interval of the per-event terms.

    Unbiased when either the propensities or the reward model ``q`` are right; ``q`` must not
    have seen the event it scores (:mod:`artwork.bandit.ope.reward_model` cross-fits it), or the
    correction term ``w (r - q)`` is shrunk towards zero and the estimate leans to ``q``.
    """

    name: ClassVar[str] = "dr"
    formula: ClassVar[str] = "mean(sum_a pi(a) q(a) + w (r - q(a_i)))"

    @staticmethod
    def terms(events: ScoredEvents) -> FloatArray:
        """The per-event terms whose mean is the estimate."""
        return events.direct + events.weights * (events.rewards - events.q_chosen)

    def estimate_policy_value(self, events: ScoredEvents) -> float:
        return mean_and_error(self.terms(events))[0]

    def standard_error(self, events: ScoredEvents) -> float:
        return mean_and_error(self.terms(events))[1]

"""The off-policy estimators, by name: the reports' columns, in this order.

- ``replay``: :class:`~artwork.bandit.ope.replay.Replay`, mean ``r`` of the events kept with
  probability ``w / max w``;
- ``ips``: :class:`~artwork.bandit.ope.ips.InverseProbabilityWeighting`, ``mean(w r)``;
- ``snips``: :class:`~artwork.bandit.ope.ips.SelfNormalizedInverseProbabilityWeighting`,
  ``sum(w r) / sum(w)``;
- ``dr``: :class:`~artwork.bandit.ope.dr.DoublyRobust`, ``mean(sum_a pi q + w (r - q(a_i)))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from artwork.bandit.ope.base import OffPolicyEstimator
from artwork.bandit.ope.dr import DoublyRobust
from artwork.bandit.ope.ips import (
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
)
from artwork.bandit.ope.replay import Replay

ESTIMATORS: Mapping[str, type[OffPolicyEstimator]] = MappingProxyType(
    {
        cls.name: cls
        for cls in (
            Replay,
            InverseProbabilityWeighting,
            SelfNormalizedInverseProbabilityWeighting,
            DoublyRobust,
        )
    }
)
"""Every estimator, by name, in report order (read-only)."""


def estimator_names() -> tuple[str, ...]:
    """The registered names, in report order."""
    return tuple(ESTIMATORS)


def get_estimator(name: str) -> OffPolicyEstimator:
    """A new instance of the estimator registered under ``name``.

    Raises:
        ValueError: No estimator has that name (the message lists the valid ones).
    """
    try:
        return ESTIMATORS[name]()
    except KeyError:
        raise ValueError(f"unknown estimator {name!r}; known: {', '.join(ESTIMATORS)}") from None

"""Artwork policies by name, so settings pick one (``ARTWORK_EXPLORATION``) and a snapshot
names the policy that wrote it.

=====================  ====================================================================
name                   policy (``ARTWORK_EXPLORATION``)
=====================  ====================================================================
``vw_epsilon_greedy``  :class:`~artwork.bandit.vw_policy.EpsilonGreedyPolicy` (``epsilon_greedy``)
``vw_softmax``         :class:`~artwork.bandit.vw_policy.SoftmaxPolicy` (``softmax``)
``vw_squarecb``        :class:`~artwork.bandit.vw_policy.SquareCBPolicy` (``squarecb``)
``vw_bag``             :class:`~artwork.bandit.vw_policy.BagPolicy` (``bag``)
``vw_cover``           :class:`~artwork.bandit.vw_policy.CoverPolicy` (``cover``)
=====================  ====================================================================

Imports only downwards: the interface (:mod:`artwork.bandit.base`) knows nothing of its
implementations.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from artwork.bandit.base import ArtworkPolicy, unpack_snapshot
from artwork.bandit.vw_policy import VW_POLICIES
from artwork.config import Settings
from artwork.errors import ModelError

POLICIES: Mapping[str, type[ArtworkPolicy]] = MappingProxyType(
    {cls.name: cls for cls in VW_POLICIES}
)
"""Every policy artwork ships, by the name its snapshots and decisions record."""

POLICY_FOR_EXPLORATION: Mapping[str, type[ArtworkPolicy]] = MappingProxyType(
    {cls.exploration: cls for cls in VW_POLICIES}
)
"""The policy implementing each ``ARTWORK_EXPLORATION`` value."""


def policy_classes() -> dict[str, type[ArtworkPolicy]]:
    """Every registered policy, by name (a copy of :data:`POLICIES`)."""
    return dict(POLICIES)


def policy_class_for(settings: Settings) -> type[ArtworkPolicy]:
    """The policy class ``settings`` select (``ARTWORK_EXPLORATION``).

    Raises:
        ValueError: No registered policy implements that exploration.
    """
    try:
        return POLICY_FOR_EXPLORATION[settings.exploration]
    except KeyError:
        raise ValueError(
            f"exploration must be one of {', '.join(POLICY_FOR_EXPLORATION)}, "
            f"got {settings.exploration!r}"
        ) from None


def get_policy_class(name: str) -> type[ArtworkPolicy]:
    """The policy class registered under ``name``.

    Raises:
        ValueError: No policy has that name.
    """
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy name {name!r}; known: {sorted(POLICIES)}") from None


def load_policy(data: bytes, settings: Settings | None = None) -> ArtworkPolicy:
    """Bring back whichever registered policy wrote ``data``.

    Args:
        data: Bytes from :meth:`ArtworkPolicy.snapshot`.
        settings: Passed on to :meth:`ArtworkPolicy.from_snapshot`.

    Raises:
        ModelError: ``data`` is not a snapshot, or its policy is not registered here.
    """
    header, _ = unpack_snapshot(data)
    if header.name not in POLICIES:
        raise ModelError(
            f"the model snapshot was written by policy {header.name!r}, which this artwork "
            f"does not have (known: {sorted(POLICIES)}); upgrade artwork"
        )
    return POLICIES[header.name].from_snapshot(data, settings)

"""Epsilon-greedy contextual bandit over action-dependent features, on vowpal-wabbit-next.

VW's ``--cb_explore_adf`` learns the cost of every action from logged choices (reward ``r`` is
logged as cost ``-r``, with the probability the choice was made with) and spreads ``epsilon``
uniformly over the actions, the rest on the lowest predicted cost. Ties go to the first action
(``--first_only``): actions come in rank order, so an untrained model shows the extractor's or
editor's top variant and explores the others with probability ``epsilon``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any, ClassVar, Self

from artwork.bandit.base import (
    ArtworkPolicy,
    PolicyConfig,
    SnapshotHeader,
    pack_snapshot,
    unpack_snapshot,
)
from artwork.bandit.features import (
    DEFAULT_INTERACTIONS,
    ChosenLabel,
    FeatureSpace,
    interaction_args,
    vw_example_lines,
)
from artwork.config import Settings
from artwork.domain import Decision
from artwork.errors import ModelError

DEFAULT_BITS = 18


class VWPolicy(ArtworkPolicy):
    """Epsilon-greedy ``cb_explore_adf`` policy with quadratic member/context x image interactions.

    The greedy action gets ``1 - epsilon + epsilon / K``, every other ``epsilon / K``; among
    actions tied for the lowest predicted cost, the first in action order is the greedy one.

    Args:
        epsilon: Exploration probability in [0, 1].
        bits: Bits of the feature hash (VW ``-b``), 1..30.
        interactions: Pairs of namespaces crossed quadratically.
        version: Version of the model (number of ``learn`` calls behind it).
        model_data: A VW model to continue from (``bits`` and ``interactions`` must be the ones
            it was trained with; its own are used).

    Raises:
        ValueError: An argument is out of range.
        ModelError: ``model_data`` cannot be loaded by VW.
    """

    name: ClassVar[str] = "vw_epsilon_greedy"

    def __init__(
        self,
        epsilon: float = 0.2,
        *,
        bits: int = DEFAULT_BITS,
        interactions: Sequence[tuple[str, str]] = DEFAULT_INTERACTIONS,
        version: int = 0,
        model_data: bytes | None = None,
    ) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        if not 1 <= bits <= 30:
            raise ValueError(f"bits must be in 1..30, got {bits}")
        if version < 0:
            raise ValueError(f"version must be >= 0, got {version}")
        import vowpal_wabbit_next as vw  # heavy native module: load on first use

        self._epsilon = float(epsilon)
        self._bits = bits
        self._interactions = tuple((a, b) for a, b in interactions)
        self._version = version
        exploration = ["--quiet", *self._exploration_args()]
        try:
            if model_data is None:
                args = ["--cb_explore_adf", *exploration, "-b", str(bits)]
                self._workspace = vw.Workspace(args + interaction_args(self._interactions))
            else:
                self._workspace = vw.Workspace(exploration, model_data=model_data)
        except Exception as exc:  # VW raises bare RuntimeError/CLIError on bad models
            raise ModelError(f"vowpal wabbit cannot load the model: {exc}") from exc
        self._parser = vw.TextFormatParser(self._workspace)
        self._vw_version = str(vw.VW_VERSION)
        # One VW workspace must not predict and learn at the same time.
        self._lock = threading.Lock()

    def _exploration_args(self) -> list[str]:
        """VW arguments that choose and tune exploration; may change between snapshots."""
        return ["--epsilon", repr(self._epsilon), "--first_only"]

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """A fresh policy exploring with ``settings.epsilon``."""
        return cls(settings.epsilon)

    @classmethod
    def from_snapshot(cls, data: bytes, settings: Settings | None = None) -> Self:
        """Bring back a policy from :meth:`snapshot` bytes.

        Args:
            data: Snapshot bytes.
            settings: When given, its ``epsilon`` replaces the snapshot's.

        Raises:
            ModelError: ``data`` is not a snapshot of this policy.
        """
        header, payload = unpack_snapshot(data)
        if header.name != cls.name:
            raise ModelError(f"snapshot is of policy {header.name!r}, not {cls.name!r}")
        try:
            epsilon = settings.epsilon if settings is not None else float(header.config["epsilon"])
            bits = int(header.config["bits"])
            interactions = _parse_interactions(str(header.config["interactions"]))
        except (KeyError, ValueError) as exc:
            raise ModelError(f"snapshot of {cls.name!r} lacks a usable setting: {exc}") from exc
        return cls(
            epsilon,
            bits=bits,
            interactions=interactions,
            version=header.version,
            model_data=payload,
        )

    @property
    def version(self) -> int:
        """Model version: 0 when fresh, one more after every ``learn``."""
        return self._version

    def config(self) -> PolicyConfig:
        """Name, exploration, epsilon, hash bits, interactions and VW version."""
        return {
            "name": self.name,
            "exploration": "epsilon_greedy",
            "ties": "first_in_rank_order",
            "epsilon": self._epsilon,
            "bits": self._bits,
            "interactions": ",".join(f"{a}*{b}" for a, b in self._interactions),
            "vw_version": self._vw_version,
        }

    def pmf(self, shared: FeatureSpace, actions: Sequence[FeatureSpace]) -> list[float]:
        """Probability of each action, in action order, summing to 1.

        Args:
            shared: Features of the request.
            actions: Features of each action (at least one).

        Raises:
            ValueError: ``actions`` is empty or holds a non-finite value.
        """
        lines = vw_example_lines(shared, actions)
        with self._lock:
            prediction: Any = self._workspace.predict_one(
                [self._parser.parse_line(line) for line in lines]
            )
        probabilities = [0.0] * len(actions)
        for index, probability in prediction:
            probabilities[index] = float(probability)
        # VW works in float32: renormalise so the logged propensities sum to 1 in float64.
        total = math.fsum(probabilities)
        if not total > 0.0:
            raise ModelError(f"vowpal wabbit returned no usable probabilities: {prediction!r}")
        return [p / total for p in probabilities]

    def learn(self, decision: Decision, reward: float) -> None:
        """Learn from a logged decision: the shown action costs ``-reward``, at its propensity.

        Args:
            decision: The decision as logged.
            reward: Finite reward; higher is better.

        Raises:
            ValueError: ``reward`` is not finite, or the decision is inconsistent.
        """
        if not math.isfinite(reward):
            raise ValueError(f"reward must be finite, got {reward}")
        if len(decision.action_features) != len(decision.action_ids):
            raise ValueError(
                f"decision {decision.event_id} has {len(decision.action_ids)} actions but "
                f"{len(decision.action_features)} action feature sets"
            )
        label = ChosenLabel(decision.chosen_index, -float(reward), decision.chosen_probability)
        lines = vw_example_lines(decision.context, decision.action_features, label)
        with self._lock:
            self._workspace.learn_one([self._parser.parse_line(line) for line in lines])
            self._version += 1

    def snapshot(self) -> bytes:
        """The policy as bytes: header (name, version, config) and the VW model."""
        with self._lock:
            payload = self._workspace.serialize()
            header = SnapshotHeader(self.name, self._version, self.config())
        return pack_snapshot(header, payload)


def _parse_interactions(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in filter(None, text.split(",")):
        first, _, second = item.partition("*")
        if not first or not second:
            raise ValueError(f"bad interaction {item!r}")
        pairs.append((first, second))
    return tuple(pairs)

"""The reward model inside DR: ``q(x, a)`` for every action of every scored event, cross-fitted.

A linear regression of the logged reward on the shared and action features (VW ``--cb_adf
--cb_type dm``: squared loss on the shown action, the same features and interactions the
policies see), with its predictions clipped to the reward range. Cross-fitting (Chernozhukov et
al., 2018): the scored events are dealt into ``K`` folds by position (``i mod K``), and the
predictions for fold ``k`` come from a model trained on every other fold (and on the warm-up
events), so no event is scored by a model that learned from it. A model that had seen the event
would predict its reward too well, shrink DR's correction term ``w (r - q)`` and pull the
estimate towards the model's own, biased, value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from artwork.bandit.features import DEFAULT_INTERACTIONS, ChosenLabel, interaction_args
from artwork.bandit.ope.base import FloatArray
from artwork.bandit.vw_policy import DEFAULT_BITS, ExampleCache
from artwork.domain import Decision

DEFAULT_FOLDS = 5


class CrossFittedRewardModel:
    """Cross-fitted, clipped reward predictions for DR.

    Args:
        folds: ``K``, at least 2 (fewer scored events than ``K``: one fold per event).
        bits: VW hash bits.
        interactions: Namespace pairs crossed quadratically.

    Raises:
        ValueError: ``folds`` < 2 or ``bits`` not in 1..30.
    """

    def __init__(
        self,
        folds: int = DEFAULT_FOLDS,
        *,
        bits: int = DEFAULT_BITS,
        interactions: Sequence[tuple[str, str]] = DEFAULT_INTERACTIONS,
    ) -> None:
        if folds < 2:
            raise ValueError(f"folds must be >= 2, got {folds}")
        if not 1 <= bits <= 30:
            raise ValueError(f"bits must be in 1..30, got {bits}")
        self.folds = folds
        self._args = [
            "--cb_adf",
            "--cb_type",
            "dm",
            "--quiet",
            "-b",
            str(bits),
            *interaction_args(interactions),
        ]

    def predict(
        self,
        scored: Sequence[tuple[Decision, float]],
        reward_range: tuple[float, float],
        extra: Sequence[tuple[Decision, float]] = (),
    ) -> list[FloatArray]:
        """``q(x_i, a)`` for every action of every scored event, each from the other folds.

        Args:
            scored: The scored events ``(decision, reward)``, in log order.
            reward_range: ``(low, high)``; every prediction is clipped into it.
            extra: Events that train every fold's model and are not scored (warm-up).

        Returns:
            Per scored event, an array with one prediction per action (action order).
        """
        low, high = reward_range
        middle = (low + high) / 2.0
        predictions: list[FloatArray] = [
            np.full(len(decision.action_ids), middle) for decision, _ in scored
        ]
        folds = min(self.folds, len(scored))
        if folds < 2 and not extra:
            return predictions  # nothing to learn from without the event itself
        import vowpal_wabbit_next as vw

        rendered: ExampleCache | None = None
        for fold in range(max(folds, 1)):
            workspace = vw.Workspace(self._args)
            cache = ExampleCache(vw.TextFormatParser(workspace))
            if rendered is not None:
                cache.inherit(rendered.lines())  # render each action's features once
            rendered = cache
            training = [*extra, *(e for i, e in enumerate(scored) if i % folds != fold)]
            for decision, reward in training:
                label = ChosenLabel(decision.chosen_index, -reward, decision.chosen_probability)
                workspace.learn_one(
                    cache.examples(
                        decision.context, decision.action_features, decision.action_ids, label
                    )
                )
            if not training:
                continue
            for i in range(fold, len(scored), max(folds, 1)):
                decision = scored[i][0]
                scores: Any = workspace.predict_one(
                    cache.examples(decision.context, decision.action_features, decision.action_ids)
                )
                q = predictions[i]
                for index, cost in scores:
                    q[index] = -float(cost)
                np.clip(q, low, high, out=q)
        return predictions

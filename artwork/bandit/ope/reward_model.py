"""The reward model inside DR: ``q(x, a)`` for every action of every scored event, cross-fitted.

A linear regression of the logged reward on the shared and the shown action's features (VW,
squared loss, one pass, the same features and interactions the policies see), not weighted by
the propensities: VW's ``cb_adf`` regressions weight each event by ``1/mu``, which on real logs
with propensities of 0.001 lets a few events throw the model far outside the reward range.
Its predictions are clipped to the reward range. Cross-fitting (Chernozhukov et al., 2018): the
scored events are dealt into ``K`` folds by position (``i mod K``), and the predictions for fold
``k`` come from a model trained on every other fold (and on the warm-up events), so no event is
scored by a model that learned from it. A model that had seen the event would predict its
reward too well, shrink DR's correction term ``w (r - q)`` and pull the estimate towards the
model's own, biased, value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from artwork.bandit.features import (
    DEFAULT_INTERACTIONS,
    FeatureSpace,
    interaction_args,
    render_features,
)
from artwork.bandit.ope.base import FloatArray
from artwork.bandit.vw_policy import DEFAULT_BITS
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
        self._args = ["--quiet", "-b", str(bits), *interaction_args(interactions)]

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
            return predictions  # nothing to learn from but the event itself
        folds = max(folds, 1)
        import vowpal_wabbit_next as vw

        lines = _Lines()
        training_extra = [lines.labelled(decision, reward) for decision, reward in extra]
        training_scored = [lines.labelled(decision, reward) for decision, reward in scored]
        for fold in range(folds):
            workspace = vw.Workspace(self._args)
            parse = vw.TextFormatParser(workspace).parse_line
            for line in training_extra:
                workspace.learn_one(parse(line))
            for i, line in enumerate(training_scored):
                if i % folds != fold:
                    workspace.learn_one(parse(line))
            for i in range(fold, len(scored), folds):
                q = predictions[i]
                for index, line in enumerate(lines.unlabelled(scored[i][0])):
                    value: Any = workspace.predict_one(parse(line))
                    q[index] = float(value)
                np.clip(q, low, high, out=q)
        return predictions


class _Lines:
    """VW text lines of ``shared + action`` examples, each feature space rendered once."""

    def __init__(self) -> None:
        self._rendered: dict[int, str] = {}

    def _render(self, space: FeatureSpace) -> str:
        # Decisions of one page share their context object and a title's variants their
        # feature objects, so identity is a cheap, safe key while the objects live.
        key = id(space)
        text = self._rendered.get(key)
        if text is None:
            text = self._rendered[key] = render_features(space)
        return text

    def labelled(self, decision: Decision, reward: float) -> str:
        action = decision.action_features[decision.chosen_index]
        return f"{reward!r} {self._render(decision.context)} {self._render(action)}"

    def unlabelled(self, decision: Decision) -> list[str]:
        shared = self._render(decision.context)
        return [f"{shared} {self._render(action)}" for action in decision.action_features]

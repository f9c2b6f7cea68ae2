"""DR's reward model: predictions inside the reward range, and no event scored by a model that
learned from it (cross-fitting)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from artwork.bandit.ope.reward_model import CrossFittedRewardModel
from artwork.domain import Decision


def event(n: int, reward: float, feature: str, chosen: int = 0) -> tuple[Decision, float]:
    decision = Decision(
        event_id=f"e{n}",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        user_id=f"u{n}",
        title_id="t1",
        context={"member": {feature: 1.0}},
        action_ids=("v0", "v1", "v2"),
        action_features=tuple({"variant": {f"id=v{i}": 1.0}} for i in range(3)),
        probabilities=(0.5, 0.3, 0.2),
        chosen_index=chosen,
        model_version=0,
        policy={"name": "test"},
    )
    return decision, reward


def test_predictions_are_clipped_to_the_reward_range() -> None:
    # Rewards far outside what the model is asked to respect pull a linear model past it.
    events = [event(n, 5.0 if n % 2 else -5.0, f"kind={n % 2}", n % 3) for n in range(200)]

    predictions = CrossFittedRewardModel(folds=4).predict(events, (0.0, 1.0))

    values = np.concatenate(predictions)
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert values.min() == 0.0 and values.max() == 1.0  # it did want to go past both ends


def test_an_event_is_never_scored_by_a_model_that_saw_it() -> None:
    # Pure-noise rewards on a feature unique to each event: only a model that learned the
    # event itself could predict its reward.
    rng = np.random.default_rng(3)
    rewards = (rng.random(400) < 0.5).astype(float)
    events = [event(n, float(r), f"id=u{n}") for n, r in enumerate(rewards)]

    predictions = CrossFittedRewardModel(folds=5).predict(events, (0.0, 1.0))

    chosen = np.asarray([q[0] for q in predictions])
    assert abs(np.corrcoef(chosen, rewards)[0, 1]) < 0.15


def test_it_learns_what_the_features_say() -> None:
    events = [event(n, float(n % 2), f"kind={n % 2}", n % 3) for n in range(400)]

    predictions = CrossFittedRewardModel().predict(events, (0.0, 1.0))

    by_kind = [np.mean([q[0] for q, (d, _) in zip(predictions, events, strict=True)
                        if d.context["member"] == {f"kind={k}": 1.0}]) for k in (0, 1)]  # fmt: skip
    assert by_kind[0] < 0.25 and by_kind[1] > 0.75


def test_one_event_and_bad_arguments() -> None:
    (only,) = CrossFittedRewardModel().predict([event(0, 1.0, "x")], (0.0, 1.0))
    assert only.tolist() == [0.5, 0.5, 0.5]  # nothing else to learn from: the middle
    with pytest.raises(ValueError, match="folds must be >= 2"):
        CrossFittedRewardModel(folds=1)

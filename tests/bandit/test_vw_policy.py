"""VWPolicy: epsilon-greedy probabilities, the sign of learning, snapshots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from artwork.bandit.base import load_policy, unpack_snapshot
from artwork.bandit.features import FeatureSpace, action_features, shared_features
from artwork.bandit.vw_policy import VWPolicy
from artwork.config import Settings
from artwork.domain import Context, Decision, Variant, VariantStatus
from artwork.errors import ModelError

CONTEXT = Context("u1", "tv", hour=21, weekday=4)


def make_variant(index: int) -> Variant:
    return Variant(
        variant_id=f"v{index}",
        title_id="t1",
        rank=index,
        frame_time_s=float(index),
        score=0.5,
        scores={"sharpness": 0.5 + 0.05 * index, "exposure": 0.6},
        tags={"face": 0.9} if index % 2 else {"landscape": 0.7},
        embedder="fallback",
        image_path=f"t1/v{index}.jpg",
        width=320,
        height=180,
        status=VariantStatus.APPROVED,
    )


def spaces(count: int, context: Context = CONTEXT) -> tuple[FeatureSpace, list[FeatureSpace]]:
    return shared_features(context), [action_features(make_variant(i)) for i in range(count)]


def decision_for(
    shared: FeatureSpace, actions: Sequence[FeatureSpace], probabilities: list[float], chosen: int
) -> Decision:
    return Decision(
        event_id=f"e{chosen}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        user_id="u1",
        title_id="t1",
        context=shared,
        action_ids=tuple(f"v{i}" for i in range(len(actions))),
        action_features=tuple(actions),
        probabilities=tuple(probabilities),
        chosen_index=chosen,
        model_version=0,
        policy={},
    )


def reward_action(policy: VWPolicy, count: int, chosen: int, reward: float) -> list[float]:
    """Show ``chosen`` with the probability the policy gives it, learn ``reward``; new pmf."""
    shared, actions = spaces(count)
    probabilities = policy.pmf(shared, actions)
    policy.learn(decision_for(shared, actions, probabilities, chosen), reward)
    return policy.pmf(shared, actions)


def test_fresh_policy_shows_the_top_ranked_variant_and_explores_the_rest() -> None:
    shared, actions = spaces(5)
    assert VWPolicy(0.2).pmf(shared, actions) == pytest.approx([0.84, 0.04, 0.04, 0.04, 0.04])


@pytest.mark.parametrize(("epsilon", "count", "rewarded"), [(0.2, 4, 2), (0.1, 8, 7), (0.5, 3, 0)])
def test_probabilities_are_epsilon_greedy_in_action_order(
    epsilon: float, count: int, rewarded: int
) -> None:
    policy = VWPolicy(epsilon)

    probabilities = reward_action(policy, count, rewarded, 1.0)

    expected = [epsilon / count] * count
    expected[rewarded] = 1 - epsilon + epsilon / count
    assert probabilities == pytest.approx(expected, abs=1e-6)
    assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-12)


def test_reward_raises_an_explored_variant_from_cold_start() -> None:
    policy = VWPolicy(0.2)

    after = reward_action(policy, 4, 3, 1.0)  # shown at p = 0.05 by a fresh model

    assert after[3] == pytest.approx(0.85)
    assert after[0] == pytest.approx(0.05)


def test_negative_reward_lowers_the_greedy_variant() -> None:
    policy = VWPolicy(0.2)

    after = reward_action(policy, 4, 0, -1.0)

    assert after[0] == pytest.approx(0.05)
    assert max(after) == pytest.approx(0.85)  # another variant is greedy now


def test_rewarding_an_explored_variant_raises_its_probability() -> None:
    policy = VWPolicy(0.2)
    greedy = reward_action(policy, 4, 1, 0.2)  # v1 is now greedy, with a modest reward
    assert greedy[1] == pytest.approx(0.85)
    assert greedy[3] == pytest.approx(0.05)

    after = reward_action(policy, 4, 3, 1.0)  # v3 was explored (p = 0.05) and played

    assert after[3] > greedy[3]
    assert after[3] == pytest.approx(0.85)
    assert after[1] == pytest.approx(0.05)


def test_repeated_learning_converges_to_the_rewarded_variant(rng: np.random.Generator) -> None:
    policy = VWPolicy(0.2)
    shared, actions = spaces(4)
    for _ in range(150):
        probabilities = policy.pmf(shared, actions)
        chosen = int(rng.choice(4, p=probabilities))
        reward = 1.0 if chosen == 2 else 0.0
        policy.learn(decision_for(shared, actions, probabilities, chosen), reward)

    final = policy.pmf(shared, actions)
    assert final[2] == pytest.approx(0.85)
    assert final[0] == pytest.approx(0.05)
    assert policy.version == 150


def test_learn_increments_version_and_rejects_non_finite_reward() -> None:
    policy = VWPolicy(0.2)
    reward_action(policy, 3, 0, 1.0)
    assert policy.version == 1

    shared, actions = spaces(3)
    decision = decision_for(shared, actions, [1 / 3] * 3, 0)
    with pytest.raises(ValueError, match="reward"):
        policy.learn(decision, math.nan)
    assert policy.version == 1


def test_snapshot_round_trips_version_config_and_pmf() -> None:
    policy = VWPolicy(0.3, bits=16)
    reward_action(policy, 4, 2, 1.0)
    shared, actions = spaces(4)

    restored = VWPolicy.from_snapshot(policy.snapshot())

    assert restored.version == 1
    assert restored.config() == policy.config()
    assert restored.pmf(shared, actions) == policy.pmf(shared, actions)
    header, _ = unpack_snapshot(policy.snapshot())
    assert (header.name, header.version) == ("vw_epsilon_greedy", 1)


def test_snapshot_loaded_with_settings_takes_their_epsilon() -> None:
    policy = VWPolicy(0.2)
    reward_action(policy, 4, 2, 1.0)

    restored = load_policy(policy.snapshot(), Settings(epsilon=0.4))

    shared, actions = spaces(4)
    assert restored.config()["epsilon"] == 0.4
    assert restored.pmf(shared, actions) == pytest.approx([0.1, 0.1, 0.7, 0.1], abs=1e-6)


def test_restored_policy_keeps_learning() -> None:
    policy = VWPolicy(0.2)
    reward_action(policy, 4, 2, 0.3)
    restored = VWPolicy.from_snapshot(policy.snapshot())

    after = reward_action(restored, 4, 0, 1.0)

    assert restored.version == 2
    assert after[0] == pytest.approx(0.85)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [({"epsilon": 1.5}, "epsilon"), ({"bits": 0}, "bits"), ({"version": -1}, "version")],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        VWPolicy(**kwargs)  # type: ignore[arg-type]


def test_corrupt_snapshot_is_a_model_error() -> None:
    with pytest.raises(ModelError):
        VWPolicy.from_snapshot(b"not a snapshot")
    data = VWPolicy(0.2).snapshot()
    header_end = data.index(b"\n", len(b"ARTWORK-POLICY/1\n")) + 1
    with pytest.raises(ModelError, match="vowpal wabbit"):
        VWPolicy.from_snapshot(data[:header_end] + b"garbage")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)

"""The contract every :class:`~artwork.bandit.base.ArtworkPolicy` keeps.

Fixture: ``policy``, a fresh (untrained) policy. The checks feed it a few synthetic decisions;
they assume nothing about how it explores, only that rewarded actions grow more likely.
"""

from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime

import numpy as np
import pytest

from artwork.bandit.base import ArtworkPolicy
from artwork.bandit.features import FeatureSpace
from artwork.domain import Decision


def features(count: int, user: str = "u1") -> tuple[FeatureSpace, list[FeatureSpace]]:
    """Shared features of ``user`` and ``count`` actions that differ in id and sharpness."""
    shared: FeatureSpace = {"member": {f"id={user}": 1.0}, "context": {"device=tv": 1.0}}
    actions: list[FeatureSpace] = [
        {"variant": {f"id=v{i}": 1.0}, "quality": {"sharpness": i / count}} for i in range(count)
    ]
    return shared, actions


def decision(policy: ArtworkPolicy, count: int, chosen: int, user: str = "u1") -> Decision:
    """A decision ``policy`` made over :func:`features`, showing action ``chosen``."""
    shared, actions = features(count, user)
    return Decision(
        event_id=f"{user}-{chosen}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        user_id=user,
        title_id="t1",
        context=shared,
        action_ids=tuple(f"v{i}" for i in range(count)),
        action_features=tuple(actions),
        probabilities=tuple(policy.pmf(shared, actions)),
        chosen_index=chosen,
        model_version=policy.version,
        policy=policy.config(),
    )


class PolicyContract:
    """What every :class:`~artwork.bandit.base.ArtworkPolicy` promises."""

    @pytest.mark.parametrize("count", [1, 2, 5, 8])
    def test_pmf_is_a_distribution_in_action_order(self, policy: ArtworkPolicy, count: int) -> None:
        shared, actions = features(count)
        probabilities = policy.pmf(shared, actions)

        assert len(probabilities) == count
        assert all(p >= 0.0 for p in probabilities)
        assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-9)

    def test_pmf_rejects_no_actions_and_mismatched_keys(self, policy: ArtworkPolicy) -> None:
        shared, actions = features(2)
        with pytest.raises(ValueError, match="actions"):
            policy.pmf(shared, [])
        with pytest.raises(ValueError, match="keys"):
            policy.pmf(shared, actions, ["only-one"])

    def test_config_names_the_policy_and_is_json(self, policy: ArtworkPolicy) -> None:
        config = policy.config()
        assert config["name"] == policy.name
        assert all(isinstance(value, str | float | int) for value in config.values())
        assert json.loads(json.dumps(config)) == config

    def test_learn_moves_version_on_by_one(self, policy: ArtworkPolicy) -> None:
        policy.learn(decision(policy, 3, 1), 1.0)
        assert policy.version == 1
        learned = policy.learn_many([(decision(policy, 3, 2), 0.0), (decision(policy, 3, 0), 1.0)])
        assert learned == 2
        assert policy.version == 3

    def test_reward_makes_the_rewarded_action_more_likely(self, policy: ArtworkPolicy) -> None:
        shared, actions = features(4)
        before = policy.pmf(shared, actions)
        for _ in range(5):
            policy.learn(decision(policy, 4, 3), 1.0)
        assert policy.pmf(shared, actions)[3] > before[3]

    def test_keyed_and_unkeyed_predictions_agree(self, policy: ArtworkPolicy) -> None:
        for step in range(6):
            policy.learn(decision(policy, 4, step % 4, user=f"u{step % 2}"), float(step % 3 == 0))
        shared, actions = features(4)
        keys = [f"v{i}" for i in range(4)]
        assert policy.pmf(shared, actions, keys) == policy.pmf(shared, actions)
        assert policy.pmf(shared, actions, keys) == policy.pmf(shared, actions, keys)

    def test_snapshot_brings_back_the_same_policy(self, policy: ArtworkPolicy) -> None:
        policy.learn(decision(policy, 4, 3), 1.0)
        shared, actions = features(4)

        restored = type(policy).from_snapshot(policy.snapshot())

        assert type(restored) is type(policy)
        assert restored.version == policy.version
        assert restored.config() == policy.config()
        assert restored.pmf(shared, actions) == pytest.approx(
            policy.pmf(shared, actions), abs=1e-12
        )

    def test_concurrent_pmf_and_learn_do_not_crash(self, policy: ArtworkPolicy) -> None:
        errors: list[BaseException] = []

        def predict(user: str) -> None:
            try:
                shared, actions = features(6, user)
                keys = [f"v{i}" for i in range(6)]
                for _ in range(100):
                    assert math.fsum(policy.pmf(shared, actions, keys)) == pytest.approx(1.0)
            except BaseException as exc:
                errors.append(exc)

        def learn() -> None:
            try:
                rng = np.random.default_rng(3)
                for _ in range(50):
                    policy.learn(decision(policy, 6, int(rng.integers(6))), float(rng.random()))
                    policy.snapshot()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=predict, args=(f"u{i}",)) for i in range(3)]
        threads += [threading.Thread(target=learn) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert policy.version == 100

"""The ArtworkPolicy contract, run over every registered policy; the snapshot envelope."""

from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime

import numpy as np
import pytest

from artwork.bandit.base import ArtworkPolicy, SnapshotHeader, pack_snapshot, unpack_snapshot
from artwork.bandit.features import FeatureSpace
from artwork.bandit.registry import get_policy_class, load_policy, policy_class_for, policy_classes
from artwork.config import Settings
from artwork.domain import Decision
from artwork.errors import ModelError

ALL_POLICIES = sorted(policy_classes().items())
EXPLORATIONS = ("epsilon_greedy", "softmax", "squarecb", "bag", "cover")


@pytest.fixture(params=[cls for _, cls in ALL_POLICIES], ids=[name for name, _ in ALL_POLICIES])
def policy(request: pytest.FixtureRequest) -> ArtworkPolicy:
    cls: type[ArtworkPolicy] = request.param
    return cls.from_settings(Settings(epsilon=0.2))


def features(count: int, user: str = "u1") -> tuple[FeatureSpace, list[FeatureSpace]]:
    shared: FeatureSpace = {"member": {f"id={user}": 1.0}, "context": {"device=tv": 1.0}}
    actions: list[FeatureSpace] = [
        {"variant": {f"id=v{i}": 1.0}, "quality": {"sharpness": i / count}} for i in range(count)
    ]
    return shared, actions


def decision(policy: ArtworkPolicy, count: int, chosen: int, user: str = "u1") -> Decision:
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


def test_registry_is_keyed_by_each_policy_name() -> None:
    assert len(ALL_POLICIES) == len(EXPLORATIONS)
    for name, cls in ALL_POLICIES:
        assert cls.name == name
        assert get_policy_class(name) is cls
    with pytest.raises(ValueError, match="no-such-policy"):
        get_policy_class("no-such-policy")


@pytest.mark.parametrize("exploration", EXPLORATIONS)
def test_settings_select_a_policy_per_exploration(exploration: str) -> None:
    cls = policy_class_for(Settings(exploration=exploration))  # type: ignore[arg-type]
    assert cls.name == f"vw_{exploration}"
    assert cls.from_settings(Settings()).config()["exploration"] == exploration


@pytest.mark.parametrize("count", [1, 2, 5, 8])
def test_pmf_is_a_distribution_in_action_order(policy: ArtworkPolicy, count: int) -> None:
    shared, actions = features(count)
    probabilities = policy.pmf(shared, actions)

    assert len(probabilities) == count
    assert all(p >= 0.0 for p in probabilities)
    assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-9)


def test_pmf_rejects_no_actions_and_mismatched_keys(policy: ArtworkPolicy) -> None:
    shared, actions = features(2)
    with pytest.raises(ValueError, match="actions"):
        policy.pmf(shared, [])
    with pytest.raises(ValueError, match="keys"):
        policy.pmf(shared, actions, ["only-one"])


def test_config_names_the_policy_and_is_json(policy: ArtworkPolicy) -> None:
    config = policy.config()
    assert config["name"] == policy.name
    assert all(isinstance(value, str | float | int) for value in config.values())
    assert json.loads(json.dumps(config)) == config


def test_learn_moves_version_on_by_one(policy: ArtworkPolicy) -> None:
    policy.learn(decision(policy, 3, 1), 1.0)
    assert policy.version == 1
    assert policy.learn_many([(decision(policy, 3, 2), 0.0), (decision(policy, 3, 0), 1.0)]) == 2
    assert policy.version == 3


def test_reward_makes_the_rewarded_action_more_likely(policy: ArtworkPolicy) -> None:
    shared, actions = features(4)
    before = policy.pmf(shared, actions)
    for _ in range(5):
        policy.learn(decision(policy, 4, 3), 1.0)
    assert policy.pmf(shared, actions)[3] > before[3]


def test_keyed_and_unkeyed_predictions_agree(policy: ArtworkPolicy) -> None:
    for step in range(6):
        policy.learn(decision(policy, 4, step % 4, user=f"u{step % 2}"), float(step % 3 == 0))
    shared, actions = features(4)
    keys = [f"v{i}" for i in range(4)]
    assert policy.pmf(shared, actions, keys) == policy.pmf(shared, actions)
    assert policy.pmf(shared, actions, keys) == policy.pmf(shared, actions, keys)


def test_snapshot_brings_back_the_same_policy(policy: ArtworkPolicy) -> None:
    policy.learn(decision(policy, 4, 3), 1.0)
    shared, actions = features(4)

    restored = load_policy(policy.snapshot())

    assert type(restored) is type(policy)
    assert restored.version == policy.version
    assert restored.config() == policy.config()
    assert restored.pmf(shared, actions) == pytest.approx(policy.pmf(shared, actions), abs=1e-12)
    assert type(policy).from_snapshot(policy.snapshot()).version == policy.version


def test_snapshot_of_the_configured_policy_needs_no_rebuild(policy: ArtworkPolicy) -> None:
    header, _ = unpack_snapshot(policy.snapshot())
    exploration = str(policy.config()["exploration"])
    settings = Settings(exploration=exploration)  # type: ignore[arg-type]
    assert type(policy).rebuild_reason(header, settings) is None
    other = "softmax" if exploration != "softmax" else "epsilon_greedy"
    cls = policy_class_for(Settings(exploration=other))  # type: ignore[arg-type]
    assert cls.rebuild_reason(header, Settings(exploration=other)) is not None  # type: ignore[arg-type]
    assert type(policy).rebuild_reason(header, Settings(bandit_bits=20)) is not None


def test_concurrent_pmf_and_learn_do_not_crash(policy: ArtworkPolicy) -> None:
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


def test_envelope_round_trips_header_and_payload() -> None:
    header = SnapshotHeader("x", 7, {"epsilon": 0.1, "name": "x"})
    payload = b"\x00\nbinary\n\xff"

    assert unpack_snapshot(pack_snapshot(header, payload)) == (header, payload)


def test_snapshot_of_an_unknown_policy_is_a_model_error() -> None:
    data = pack_snapshot(SnapshotHeader("retired_policy", 1, {}), b"")
    with pytest.raises(ModelError, match="retired_policy"):
        load_policy(data)
    with pytest.raises(ModelError, match="header"):
        load_policy(b"ARTWORK-POLICY/1\n{not json\n")

"""The ArtworkPolicy contract, run over every registered policy; the registry; the snapshot
envelope."""

from __future__ import annotations

import pytest

from artwork.bandit.base import ArtworkPolicy, SnapshotHeader, pack_snapshot, unpack_snapshot
from artwork.bandit.registry import get_policy_class, load_policy, policy_class_for, policy_classes
from artwork.config import Settings
from artwork.errors import ModelError
from artwork.testing.contracts import PolicyContract
from artwork.testing.contracts.policies import decision, features

ALL_POLICIES = sorted(policy_classes().items())
EXPLORATIONS = ("epsilon_greedy", "softmax", "squarecb", "bag", "cover")


@pytest.fixture(params=[cls for _, cls in ALL_POLICIES], ids=[name for name, _ in ALL_POLICIES])
def policy(request: pytest.FixtureRequest) -> ArtworkPolicy:
    cls: type[ArtworkPolicy] = request.param
    return cls.from_settings(Settings(epsilon=0.2))


class TestEveryPolicy(PolicyContract):
    """The shared contract, over the module's ``policy`` fixture."""


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


def test_the_registry_brings_back_a_snapshot_of_any_policy(policy: ArtworkPolicy) -> None:
    policy.learn(decision(policy, 4, 3), 1.0)
    shared, actions = features(4)
    restored = load_policy(policy.snapshot())
    assert type(restored) is type(policy)
    assert restored.pmf(shared, actions) == pytest.approx(policy.pmf(shared, actions), abs=1e-12)


def test_snapshot_of_the_configured_policy_needs_no_rebuild(policy: ArtworkPolicy) -> None:
    header, _ = unpack_snapshot(policy.snapshot())
    exploration = str(policy.config()["exploration"])
    settings = Settings(exploration=exploration)  # type: ignore[arg-type]
    assert type(policy).rebuild_reason(header, settings) is None
    other = "softmax" if exploration != "softmax" else "epsilon_greedy"
    cls = policy_class_for(Settings(exploration=other))  # type: ignore[arg-type]
    assert cls.rebuild_reason(header, Settings(exploration=other)) is not None  # type: ignore[arg-type]
    assert type(policy).rebuild_reason(header, Settings(bandit_bits=20)) is not None


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

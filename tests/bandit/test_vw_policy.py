"""VW policies: epsilon-greedy probabilities, the sign of learning, parameters, snapshots, and
the example cache that makes serving fast."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from artwork.bandit.base import SnapshotHeader, pack_snapshot, unpack_snapshot
from artwork.bandit.features import FeatureSpace, action_features, shared_features
from artwork.bandit.registry import load_policy
from artwork.bandit.vw_policy import (
    BagPolicy,
    CoverPolicy,
    EpsilonGreedyPolicy,
    SoftmaxPolicy,
    SquareCBPolicy,
    VWPolicy,
    vw_policy_for,
)
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


def greedy(epsilon: float = 0.2, **kwargs: float) -> EpsilonGreedyPolicy:
    # VW's own learning rate and no clipping: the textbook epsilon-greedy numbers.
    return EpsilonGreedyPolicy(epsilon=epsilon, learning_rate=0.5, clip_p=0.0, **kwargs)  # type: ignore[arg-type]


def test_fresh_policy_shows_the_top_ranked_variant_and_explores_the_rest() -> None:
    shared, actions = spaces(5)
    assert greedy().pmf(shared, actions) == pytest.approx([0.84, 0.04, 0.04, 0.04, 0.04])


@pytest.mark.parametrize(("epsilon", "count", "rewarded"), [(0.2, 4, 2), (0.1, 8, 7), (0.5, 3, 0)])
def test_probabilities_are_epsilon_greedy_in_action_order(
    epsilon: float, count: int, rewarded: int
) -> None:
    policy = greedy(epsilon)

    probabilities = reward_action(policy, count, rewarded, 1.0)

    expected = [epsilon / count] * count
    expected[rewarded] = 1 - epsilon + epsilon / count
    assert probabilities == pytest.approx(expected, abs=1e-6)
    assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-12)


def test_reward_raises_an_explored_variant_from_cold_start() -> None:
    after = reward_action(greedy(), 4, 3, 1.0)  # shown at p = 0.05 by a fresh model

    assert after[3] == pytest.approx(0.85)
    assert after[0] == pytest.approx(0.05)


def test_negative_reward_lowers_the_greedy_variant() -> None:
    after = reward_action(greedy(), 4, 0, -1.0)

    assert after[0] == pytest.approx(0.05)
    assert max(after) == pytest.approx(0.85)  # another variant is greedy now


def test_repeated_learning_converges_to_the_rewarded_variant(rng: np.random.Generator) -> None:
    policy = EpsilonGreedyPolicy.from_settings(Settings(epsilon=0.2))
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
    policy = greedy()
    reward_action(policy, 3, 0, 1.0)
    assert policy.version == 1

    shared, actions = spaces(3)
    decision = decision_for(shared, actions, [1 / 3] * 3, 0)
    with pytest.raises(ValueError, match="reward"):
        policy.learn(decision, math.nan)
    assert policy.version == 1


def test_snapshot_round_trips_version_config_and_pmf() -> None:
    policy = greedy(0.3, bits=16)
    reward_action(policy, 4, 2, 1.0)
    shared, actions = spaces(4)

    restored = EpsilonGreedyPolicy.from_snapshot(policy.snapshot())

    assert restored.version == 1
    assert restored.config() == policy.config()
    assert restored.pmf(shared, actions) == policy.pmf(shared, actions)
    header, _ = unpack_snapshot(policy.snapshot())
    assert (header.name, header.version) == ("vw_epsilon_greedy", 1)


def test_snapshot_loaded_with_settings_takes_their_tunable_parameters() -> None:
    policy = greedy()
    reward_action(policy, 4, 2, 1.0)

    restored = load_policy(policy.snapshot(), Settings(epsilon=0.4, bandit_learning_rate=0.2))

    shared, actions = spaces(4)
    assert restored.config()["epsilon"] == 0.4
    assert restored.config()["learning_rate"] == 0.2
    assert restored.pmf(shared, actions) == pytest.approx([0.1, 0.1, 0.7, 0.1], abs=1e-6)


def test_structural_parameters_stay_as_the_snapshot_has_them() -> None:
    bag = BagPolicy(size=3, epsilon=0.1, learning_rate=0.5, clip_p=0.0)
    restored = load_policy(bag.snapshot(), Settings(bag_size=7, epsilon=0.3))
    assert restored.config()["size"] == 3.0 and restored.config()["epsilon"] == 0.3
    header, _ = unpack_snapshot(bag.snapshot())
    bag_settings = Settings(exploration="bag", bandit_clip_p=0.0)
    assert "size=3" in str(BagPolicy.rebuild_reason(header, bag_settings))
    same = bag_settings.model_copy(update={"bag_size": 3})
    assert BagPolicy.rebuild_reason(header, same) is None
    assert "clip_p" in str(
        BagPolicy.rebuild_reason(header, Settings(exploration="bag", bag_size=3))
    )


def test_snapshot_of_older_artwork_without_a_learning_rate_loads() -> None:
    policy = greedy()
    header, payload = unpack_snapshot(policy.snapshot())
    config = {k: v for k, v in header.config.items() if k != "learning_rate"}
    old = pack_snapshot(SnapshotHeader(header.name, header.version, config), payload)

    restored = EpsilonGreedyPolicy.from_snapshot(old)

    assert restored.config()["learning_rate"] == 0.5  # VW's own default, what it was built with


def test_restored_policy_keeps_learning() -> None:
    policy = greedy()
    reward_action(policy, 4, 1, 0.3)
    restored = EpsilonGreedyPolicy.from_snapshot(policy.snapshot())

    after = reward_action(restored, 4, 3, 1.0)

    assert restored.version == 2
    assert after[3] == pytest.approx(0.85)


@pytest.mark.parametrize(
    ("cls", "kwargs", "bad"),
    [
        (EpsilonGreedyPolicy, {"epsilon": 1.5}, "epsilon"),
        (EpsilonGreedyPolicy, {"epsilon": 0.1, "bits": 0}, "bits"),
        (EpsilonGreedyPolicy, {"epsilon": 0.1, "version": -1}, "version"),
        (EpsilonGreedyPolicy, {"epsilon": 0.1, "lambda": 2.0}, "unknown"),
        (EpsilonGreedyPolicy, {}, "needs"),
        (BagPolicy, {"size": 2.5, "epsilon": 0.1}, "size"),
        (SoftmaxPolicy, {"lambda": -1.0}, "lambda"),
    ],
)
def test_bad_arguments_are_named(cls: type[VWPolicy], kwargs: dict[str, float], bad: str) -> None:
    arguments: dict[str, float] = {"learning_rate": 0.5, "clip_p": 0.0} | kwargs
    with pytest.raises(ValueError, match=bad):
        cls(**arguments)  # type: ignore[arg-type]


def test_exploration_names_map_to_policies() -> None:
    assert vw_policy_for("softmax") is SoftmaxPolicy
    assert vw_policy_for("squarecb") is SquareCBPolicy
    assert vw_policy_for("cover") is CoverPolicy
    with pytest.raises(ValueError, match="thompson"):
        vw_policy_for("thompson")


def test_corrupt_snapshot_is_a_model_error() -> None:
    with pytest.raises(ModelError):
        EpsilonGreedyPolicy.from_snapshot(b"not a snapshot")
    data = greedy().snapshot()
    header_end = data.index(b"\n", len(b"ARTWORK-POLICY/1\n")) + 1
    with pytest.raises(ModelError, match="vowpal wabbit"):
        EpsilonGreedyPolicy.from_snapshot(data[:header_end] + b"garbage")


@pytest.mark.parametrize("cls", [EpsilonGreedyPolicy, SoftmaxPolicy, BagPolicy])
def test_cached_examples_learn_exactly_what_fresh_parses_learn(cls: type[VWPolicy]) -> None:
    """Reusing parsed action examples (the serving and learning fast path) changes nothing."""
    settings = Settings()
    cached, fresh = cls.from_settings(settings), cls.from_settings(settings)
    rng = np.random.default_rng(11)
    for step in range(60):
        shared, actions = spaces(5, Context(f"u{step % 7}", "tv", step % 24, step % 7))
        chosen = int(rng.integers(5))
        probabilities = [0.2] * 5
        item = decision_for(shared, actions, probabilities, chosen)
        keys = [f"v{i}" for i in range(5)]
        assert cached.pmf(shared, actions, keys) == fresh.pmf(shared, actions)
        cached.learn(item, float(chosen == step % 5))
        # The unkeyed twin: same decision without ids to cache under.
        fresh.learn(
            Decision(**{**_fields(item), "action_ids": tuple(f"x{step}-{i}" for i in range(5))}),
            float(chosen == step % 5),
        )
    assert cached.weights() == fresh.weights()


def test_a_swapped_in_policy_inherits_rendered_lines_and_predicts_the_same() -> None:
    old = greedy()
    shared, actions = spaces(4)
    keys = [f"v{i}" for i in range(4)]
    old.pmf(shared, actions, keys)
    reward_action(old, 4, 1, 1.0)

    new = EpsilonGreedyPolicy.from_snapshot(old.snapshot())
    new.inherit_cache(old)

    assert new.pmf(shared, actions, keys) == old.pmf(shared, actions, keys)


def _fields(decision: Decision) -> dict[str, object]:
    return {name: getattr(decision, name) for name in Decision.__dataclass_fields__}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def near_identical_variants(count: int = 5) -> list[Variant]:
    """Stills of one clip, as the extractor scores them: much alike, a little different."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=256)
    variants = []
    for i in range(count):
        embedding = (base + 0.3 * rng.normal(size=256)).astype(np.float32)
        scores = {
            name: float(np.clip(value + rng.normal(0, 0.05), 0, 1))
            for name, value in {
                "sharpness": 0.85, "exposure": 0.97, "contrast": 0.7, "colourfulness": 0.7,
                "noise": 0.2, "text_heaviness": 0.04, "saliency_thirds": 0.3, "face_area": 0.0,
            }.items()
        }  # fmt: skip
        tags = {"animal": float(rng.uniform(0.8, 0.95))} | ({"water": 0.17} if i == 4 else {})
        variants.append(
            Variant(
                variant_id=f"v{i}",
                title_id="t1",
                rank=i,
                frame_time_s=float(i),
                score=0.6 - 0.01 * i,
                scores=scores,
                tags=tags,
                embedder="e",
                image_path="p",
                width=1,
                height=1,
                status=VariantStatus.APPROVED,
                embedding=embedding,
            )
        )
    return variants


@pytest.mark.parametrize("rewarded", [1, 2, 3, 4])
def test_one_play_makes_the_image_that_earned_it_the_greedy_one(rewarded: int) -> None:
    """However alike a title's images are, a single reward is credited to the one shown."""
    policy = EpsilonGreedyPolicy.from_settings(Settings())
    shared = shared_features(CONTEXT)
    actions = [action_features(v) for v in near_identical_variants()]
    before = policy.pmf(shared, actions)

    policy.learn(decision_for(shared, actions, before, rewarded), 1.0)

    after = policy.pmf(shared, actions)
    assert after[rewarded] > before[rewarded]
    assert after.index(max(after)) == rewarded


def test_interactions_can_be_configured_and_a_change_needs_a_rebuild() -> None:
    settings = Settings(bandit_interactions="history*tags, context*variant")
    policy = EpsilonGreedyPolicy.from_settings(settings)
    assert policy.config()["interactions"] == "history*tags,context*variant"

    header, _ = unpack_snapshot(policy.snapshot())
    assert EpsilonGreedyPolicy.rebuild_reason(header, settings) is None
    assert EpsilonGreedyPolicy.rebuild_reason(header, Settings()) is None  # default: keep
    other = Settings(bandit_interactions="history*tags")
    assert "history*tags" in str(EpsilonGreedyPolicy.rebuild_reason(header, other))


def test_malformed_interactions_are_refused_by_the_settings() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="bandit_interactions"):
        Settings(bandit_interactions="history-tags")


def test_a_swapped_in_greedy_policy_starts_with_the_actions_already_compiled() -> None:
    old = greedy()
    shared, actions = spaces(4)
    keys = [f"v{i}" for i in range(4)]
    old.pmf_many(shared, [(actions, keys)])
    reward_action(old, 4, 1, 1.0)

    new = EpsilonGreedyPolicy.from_snapshot(old.snapshot())
    new.inherit_cache(old)

    assert new._linear is not None and len(new._linear.cached()[1]) == 1
    assert new.pmf_many(shared, [(actions, keys)]) == old.pmf_many(shared, [(actions, keys)])

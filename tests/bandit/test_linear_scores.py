"""Greedy scores read from VW's weights: the same costs as VW's predictions (up to one constant
per request), the same epsilon-greedy distributions, and VW asked wherever they cannot be."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import vowpal_wabbit_next as vw

from artwork.bandit.features import (
    DEFAULT_INTERACTIONS,
    FeatureSpace,
    interaction_args,
    render_features,
    render_shared,
)
from artwork.bandit.linear_scores import LinearScores
from artwork.bandit.vw_policy import EpsilonGreedyPolicy, VWPolicy
from artwork.domain import Decision

TAGS = ("face", "close-up face", "night|sky", "a:b", "123", "landscape", "smile", "text")


def shared_space(rng: np.random.Generator, member: int) -> dict[str, dict[str, float]]:
    return {
        "member": {f"id=u{member}": 1.0},
        "context": {f"device={rng.choice(['tv', 'phone'])}": 1.0, "country=nl": 1.0},
        "when": {f"hour={rng.integers(24)}": 1.0, "weekend": 1.0},
        "history": {f"tag={t}": float(rng.uniform(0.1, 1)) for t in rng.choice(TAGS, 3)},
    }


def action_space(rng: np.random.Generator, variant: int) -> dict[str, dict[str, float]]:
    return {
        "variant": {f"id=v{variant}": 1.0, f"rank={variant % 5}": 1.0},
        "quality": {f"sharpness={rng.integers(5)}": 1.0, "score=3": 1.0},
        "tags": {str(t): float(rng.uniform(0.3, 1)) for t in rng.choice(TAGS, 3, replace=False)},
        "faces": {f"face_count={variant % 3}": 1.0},
        "embedding": {f"p{i}{'+' if rng.random() < 0.5 else '-'}": 1.0 for i in range(4)},
    }


def request(
    rng: np.random.Generator, titles: int = 6, per_title: int = 4
) -> tuple[FeatureSpace, list[tuple[list[FeatureSpace], list[str]]]]:
    shared = shared_space(rng, int(rng.integers(30)))
    page = []
    for _ in range(titles):
        ids = rng.choice(60, per_title, replace=False)
        page.append(([action_space(rng, int(i)) for i in ids], [f"v{i}-{id(ids)}" for i in ids]))
    return shared, page


def train(workspace: Any, rng: np.random.Generator, events: int = 1500) -> None:
    parser = vw.TextFormatParser(workspace)
    for _ in range(events):
        shared, page = request(rng, titles=1, per_title=4)
        actions = page[0][0]
        chosen = int(rng.integers(len(actions)))
        lines = [render_shared(shared)] + [
            (f"0:{-rng.random():.3f}:0.25 " if i == chosen else "") + render_features(a)
            for i, a in enumerate(actions)
        ]
        workspace.learn_one([parser.parse_line(line) for line in lines])


def test_scores_equal_vw_costs_up_to_one_constant_per_request() -> None:
    rng = np.random.default_rng(3)
    workspace = vw.Workspace(
        ["--cb_adf", "--quiet", "-b", "18", *interaction_args(DEFAULT_INTERACTIONS)]
    )
    train(workspace, rng)
    parser = vw.TextFormatParser(workspace)
    linear = LinearScores(workspace, DEFAULT_INTERACTIONS)
    for _ in range(20):
        shared, page = request(rng)
        scores = linear.scores(shared, page)
        assert scores is not None
        for (actions, _keys), computed in zip(page, scores, strict=True):
            examples = [parser.parse_line(render_shared(shared))]
            examples += [parser.parse_line(render_features(a)) for a in actions]
            costs = dict(workspace.predict_one(examples))
            predicted = np.array([costs[i] for i in range(len(actions))])
            offset = predicted - computed
            assert np.ptp(offset) < 1e-4, (predicted, computed)
            assert np.abs(computed).max() > 1e-3  # learned weights, not a row of zeros


def test_the_default_namespace_is_scored_as_vw_reads_it() -> None:
    # Imported logs put features in VW's default namespace, rendered as a bare "|".
    rng = np.random.default_rng(4)
    workspace = vw.Workspace(["--cb_adf", "--quiet", *interaction_args(DEFAULT_INTERACTIONS)])
    parser = vw.TextFormatParser(workspace)

    def imported(action: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return action | {" ": {f"w{rng.integers(5)}": 1.0, "a b|c:d": 0.5}}

    for _ in range(800):
        shared, page = request(rng, titles=1, per_title=3)
        lines = [render_shared(shared)] + [
            (f"0:{-rng.random():.3f}:0.3 " if i == 0 else "") + render_features(imported(a))
            for i, a in enumerate(page[0][0])
        ]
        workspace.learn_one([parser.parse_line(line) for line in lines])
    linear = LinearScores(workspace, DEFAULT_INTERACTIONS)
    for _ in range(10):
        shared, page = request(rng, titles=3)
        page = [([imported(a) for a in actions], keys) for actions, keys in page]
        scores = linear.scores(shared, page)
        assert scores is not None
        for (actions, _keys), computed in zip(page, scores, strict=True):
            examples = [parser.parse_line(render_shared(shared))]
            examples += [parser.parse_line(render_features(a)) for a in actions]
            costs = dict(workspace.predict_one(examples))
            predicted = np.array([costs[i] for i in range(len(actions))])
            assert np.ptp(predicted - computed) < 1e-4


def test_non_finite_features_are_refused_as_vw_refuses_them() -> None:
    rng = np.random.default_rng(2)
    policy = greedy_policy()
    shared, page = request(rng)
    page[0][0][0]["quality"] = {"sharpness": float("nan")}
    with pytest.raises(ValueError, match="must be finite"):
        policy.pmf_many(shared, page)


def greedy_policy(**kwargs: Any) -> EpsilonGreedyPolicy:
    return EpsilonGreedyPolicy(epsilon=0.2, learning_rate=0.5, clip_p=0.0, **kwargs)


def decision(shared: FeatureSpace, actions: Sequence[FeatureSpace], chosen: int) -> Decision:
    count = len(actions)
    return Decision(
        event_id="e",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        user_id="u",
        title_id="t",
        context=shared,
        action_ids=tuple(f"a{i}" for i in range(count)),
        action_features=tuple(actions),
        probabilities=(1.0 / count,) * count,
        chosen_index=chosen,
        model_version=0,
        policy={},
    )


def trained_policy(rng: np.random.Generator, **kwargs: Any) -> EpsilonGreedyPolicy:
    policy = greedy_policy(**kwargs)
    for _ in range(800):
        shared, page = request(rng, titles=1, per_title=4)
        actions = page[0][0]
        policy.learn(decision(shared, actions, int(rng.integers(4))), float(rng.random()))
    return policy


def test_epsilon_greedy_pages_match_vw_title_by_title() -> None:
    rng = np.random.default_rng(5)
    policy = trained_policy(rng)
    compared = 0
    for _ in range(15):
        shared, page = request(rng)
        for (actions, keys), answer in zip(page, policy.pmf_many(shared, page), strict=True):
            from_vw = VWPolicy.pmf(policy, shared, actions, keys)
            assert answer.index(max(answer)) == from_vw.index(max(from_vw))
            assert answer == pytest.approx(from_vw, abs=1e-6)
            assert policy.pmf(shared, actions, keys) == answer
            compared += 1
    assert compared == 90
    assert policy._use_linear  # the check against VW found nothing to complain about


def test_a_fresh_policy_shows_the_first_variant_of_every_title() -> None:
    shared, page = request(np.random.default_rng(1))
    for answer in greedy_policy().pmf_many(shared, page):
        assert answer == pytest.approx([0.85, 0.05, 0.05, 0.05])


def test_crossing_two_action_namespaces_is_asked_of_vw() -> None:
    rng = np.random.default_rng(8)
    policy = trained_policy(rng, interactions=(("tags", "faces"), ("history", "tags")))
    shared, page = request(rng)
    answers = policy.pmf_many(shared, page)
    assert policy._linear is not None and policy._linear.scores(shared, page) is None
    for (actions, keys), answer in zip(page, answers, strict=True):
        assert answer == VWPolicy.pmf(policy, shared, actions, keys)


def test_a_disagreement_with_vw_hands_the_policy_back_to_vw(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(9)
    policy = trained_policy(rng)
    shared, page = request(rng)
    honest = LinearScores.scores

    def reversed_scores(self: LinearScores, *args: Any) -> list[Any] | None:
        found = honest(self, *args)
        return None if found is None else [-s for s in found]

    monkeypatch.setattr(LinearScores, "scores", reversed_scores)
    with caplog.at_level(logging.WARNING):
        policy.pmf_many(shared, page)
    assert "disagree with VW" in caplog.text
    assert not policy._use_linear
    for (actions, keys), answer in zip(page, policy.pmf_many(shared, page), strict=True):
        assert answer == VWPolicy.pmf(policy, shared, actions, keys)


def test_a_newer_model_reuses_compiled_actions_and_scores_as_if_compiled_afresh() -> None:
    # The learner saves snapshots every few seconds under load; each is served by every
    # worker, so the actions compiled for the old weights carry over to the new ones.
    rng = np.random.default_rng(8)
    old = vw.Workspace(["--cb_adf", "--quiet", "-b", "18", *interaction_args(DEFAULT_INTERACTIONS)])
    train(old, rng, events=300)
    served = LinearScores(old, DEFAULT_INTERACTIONS)
    shared, page = request(rng, titles=8)
    served.scores(shared, page)
    train(old, rng, events=300)  # the learner moved on; a new snapshot is loaded
    newer = vw.Workspace(["--quiet"], model_data=old.serialize())

    warm = LinearScores(newer, DEFAULT_INTERACTIONS)
    assert warm.inherit(served, served.cached())
    cold = LinearScores(newer, DEFAULT_INTERACTIONS)
    for warm_scores, cold_scores in zip(
        warm.scores(shared, page) or [], cold.scores(shared, page) or [], strict=True
    ):
        assert np.array_equal(warm_scores, cold_scores)
    assert len(warm.cached()[1]) == len(page)  # nothing compiled again


def test_compiled_actions_of_another_feature_space_are_not_reused() -> None:
    rng = np.random.default_rng(9)
    small = vw.Workspace(
        ["--cb_adf", "--quiet", "-b", "16", *interaction_args(DEFAULT_INTERACTIONS)]
    )
    served = LinearScores(small, DEFAULT_INTERACTIONS)
    served.scores(*request(rng))
    larger = vw.Workspace(
        ["--cb_adf", "--quiet", "-b", "18", *interaction_args(DEFAULT_INTERACTIONS)]
    )
    other = LinearScores(larger, DEFAULT_INTERACTIONS)
    assert not other.inherit(served, served.cached())
    assert other.cached() == ({}, {})
    hashed_apart = vw.Workspace(
        [
            "--cb_adf",
            "--quiet",
            "-b",
            "16",
            "--hash_seed",
            "7",
            *interaction_args(DEFAULT_INTERACTIONS),
        ]
    )
    assert not LinearScores(hashed_apart, DEFAULT_INTERACTIONS).inherit(served, served.cached())

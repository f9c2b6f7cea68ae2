"""Every registered estimator behind one interface: contract tests, and a cross-check of the
point estimates against Open Bandit Pipeline on identical inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artwork.bandit.ope.base import Estimate, OffPolicyEstimator, ScoredEvents
from artwork.bandit.ope.registry import ESTIMATORS, estimator_names, get_estimator
from artwork.bandit.ope.replay import rejection_sample

# Reference values computed once with Open Bandit Pipeline 0.4.1 in a separate Python 3.11
# virtualenv (`pip install --no-deps obp` picked 0.4.1: the 0.5.x sdists on PyPI declare other
# versions in their metadata, and obp's pinned PyYAML 5.4 no longer builds; numpy 1.26, scipy,
# scikit-learn and pandas were installed beside it), on exactly the arrays below:
#   InverseProbabilityWeighting().estimate_policy_value(reward=REWARD, action=ACTION,
#       pscore=PSCORE, action_dist=PI[:, :, None])                                   -> OBP_IPS
#   SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(same)            -> OBP_SNIPS
#   DoublyRobust().estimate_policy_value(same, estimated_rewards_by_reg_model=Q[:, :, None])
#                                                                                      -> OBP_DR
#   ReplayMethod().estimate_policy_value(reward=REWARD, action=ACTION,
#       action_dist=one-hot(DET_ACTION)[:, :, None])  (the log taken as uniform)     -> OBP_REPLAY
# obp imports torch at module level but its numpy code paths never call it, so torch was an
# empty stand-in module there. The arrays were drawn with numpy.random.default_rng(2026).
ACTION = [2, 1, 0, 0, 3, 0, 2, 1, 3, 2, 3, 3, 3, 3, 3, 2, 3, 0, 1, 3]
REWARD = [
    1.0,
    0.0,
    0.0,
    0.0,
    1.0,
    0.0,
    0.0,
    0.0,
    1.0,
    0.0,
    1.0,
    0.0,
    1.0,
    1.0,
    1.0,
    1.0,
    0.0,
    1.0,
    0.0,
    0.0,
]
PSCORE = [
    0.17,
    0.319,
    0.152,
    0.541,
    0.4,
    0.687,
    0.156,
    0.529,
    0.474,
    0.438,
    0.827,
    0.123,
    0.34,
    0.415,
    0.848,
    0.303,
    0.339,
    0.299,
    0.526,
    0.203,
]
PI = [
    [0.534, 0.056, 0.014, 0.396],
    [0.127, 0.211, 0.485, 0.177],
    [0.533, 0.286, 0.101, 0.08],
    [0.421, 0.263, 0.224, 0.092],
    [0.415, 0.126, 0.455, 0.004],
    [0.011, 0.598, 0.35, 0.041],
    [0.014, 0.032, 0.167, 0.787],
    [0.477, 0.02, 0.144, 0.359],
    [0.429, 0.322, 0.067, 0.182],
    [0.242, 0.342, 0.379, 0.037],
    [0.387, 0.104, 0.491, 0.018],
    [0.078, 0.091, 0.037, 0.794],
    [0.062, 0.318, 0.147, 0.473],
    [0.097, 0.875, 0.014, 0.014],
    [0.103, 0.037, 0.807, 0.053],
    [0.18, 0.113, 0.696, 0.011],
    [0.095, 0.026, 0.276, 0.603],
    [0.545, 0.11, 0.151, 0.194],
    [0.033, 0.551, 0.292, 0.124],
    [0.073, 0.004, 0.411, 0.512],
]
Q = [
    [0.193, 0.4, 0.526, 0.098],
    [0.085, 0.841, 0.827, 0.383],
    [0.707, 0.518, 0.748, 0.315],
    [0.474, 0.893, 0.817, 0.31],
    [0.882, 0.399, 0.682, 0.712],
    [0.402, 0.827, 0.465, 0.961],
    [0.937, 0.9, 0.908, 0.147],
    [0.648, 0.741, 0.529, 0.529],
    [0.201, 0.161, 0.783, 0.15],
    [0.728, 0.077, 0.412, 0.024],
    [0.66, 0.293, 0.468, 0.286],
    [0.516, 0.658, 0.167, 0.777],
    [0.783, 0.942, 0.381, 0.873],
    [0.094, 0.994, 0.212, 0.374],
    [0.094, 0.835, 0.486, 0.962],
    [0.145, 0.892, 0.36, 0.236],
    [0.657, 0.03, 0.525, 0.474],
    [0.049, 0.434, 0.305, 0.249],
    [0.93, 0.598, 0.154, 0.757],
    [0.37, 0.599, 0.38, 0.639],
]
DET_ACTION = [1, 2, 0, 1, 1, 3, 2, 2, 2, 2, 3, 0, 2, 1, 2, 1, 3, 0, 2, 0]
OBP_IPS = 0.305263409565333
OBP_SNIPS = 0.2457357859911145
OBP_DR = 0.0708711819841025
OBP_REPLAY = 0.33333333333333337


def scored_from(
    pi: np.ndarray, pscore: np.ndarray, uniforms: np.ndarray | None = None
) -> ScoredEvents:
    """The per-event terms of policy ``pi`` on the reference log."""
    rows = np.arange(len(ACTION))
    action = np.asarray(ACTION)
    q = np.asarray(Q)
    weights = pi[rows, action] / pscore
    draws = np.zeros(len(ACTION)) if uniforms is None else uniforms
    return ScoredEvents(
        rewards=np.asarray(REWARD),
        weights=weights,
        direct=(pi * q).sum(axis=1),
        q_chosen=q[rows, action],
        accepted=rejection_sample(weights, draws),
    )


@pytest.mark.parametrize(
    ("name", "expected"), [("ips", OBP_IPS), ("snips", OBP_SNIPS), ("dr", OBP_DR)]
)
def test_point_estimates_match_open_bandit_pipeline(name: str, expected: float) -> None:
    events = scored_from(np.asarray(PI), np.asarray(PSCORE))

    assert get_estimator(name).estimate_policy_value(events) == pytest.approx(expected, abs=1e-6)


def test_replay_of_a_deterministic_policy_on_a_uniform_log_matches_open_bandit_pipeline() -> None:
    deterministic = np.zeros((len(ACTION), len(Q[0])))
    deterministic[np.arange(len(ACTION)), DET_ACTION] = 1.0
    uniform = np.full(len(ACTION), 1.0 / len(Q[0]))
    # Any draws: on a uniform log a deterministic policy keeps exactly its matches.
    events = scored_from(deterministic, uniform, np.random.default_rng(0).random(len(ACTION)))

    assert events.accepted.tolist() == (np.asarray(ACTION) == np.asarray(DET_ACTION)).tolist()
    assert get_estimator("replay").estimate_policy_value(events) == pytest.approx(
        OBP_REPLAY, abs=1e-6
    )


def naive(name: str, pi: list[list[float]]) -> float:
    """The textbook formulas, written out event by event (a second, deliberately plain
    implementation)."""
    total_w = total_wr = total_dr = 0.0
    for i, a in enumerate(ACTION):
        w = pi[i][a] / PSCORE[i]
        total_w += w
        total_wr += w * REWARD[i]
        total_dr += sum(p * q for p, q in zip(pi[i], Q[i], strict=True))
        total_dr += w * (REWARD[i] - Q[i][a])
    return {"ips": total_wr / len(ACTION), "snips": total_wr / total_w}.get(
        name, total_dr / len(ACTION)
    )


@pytest.mark.parametrize("name", ["ips", "snips", "dr"])
def test_point_estimates_match_the_textbook_formulas(name: str) -> None:
    events = scored_from(np.asarray(PI), np.asarray(PSCORE))

    assert get_estimator(name).estimate_policy_value(events) == pytest.approx(
        naive(name, PI), abs=1e-12
    )


@pytest.fixture(params=sorted(ESTIMATORS))
def estimator(request: pytest.FixtureRequest) -> OffPolicyEstimator:
    return get_estimator(request.param)


def test_every_estimator_gives_an_interval_around_its_value(estimator: OffPolicyEstimator) -> None:
    events = scored_from(np.asarray(PI), np.asarray(PSCORE), np.linspace(0, 0.99, len(ACTION)))

    normal = estimator.estimate_interval(events, 0.95)
    wide = estimator.estimate_interval(events, 0.99)
    boot = estimator.bootstrap_interval(events, 0.95, 200, np.random.default_rng(1))
    again = estimator.bootstrap_interval(events, 0.95, 200, np.random.default_rng(1))

    assert isinstance(normal, Estimate)
    assert normal.low < normal.value < normal.high
    assert wide.low < normal.low and wide.high > normal.high
    assert boot.value == normal.value and boot.low <= boot.high
    assert boot == again


def test_every_estimator_gives_the_mean_reward_for_the_logging_policy(
    estimator: OffPolicyEstimator,
) -> None:
    rows = np.arange(len(ACTION))
    events = ScoredEvents(
        rewards=np.asarray(REWARD),
        weights=np.ones(len(ACTION)),
        direct=np.asarray(Q)[rows, ACTION],  # on-policy: the sampled action's q
        q_chosen=np.asarray(Q)[rows, ACTION],
        accepted=rejection_sample(np.ones(len(ACTION)), np.full(len(ACTION), 0.999)),
    )

    assert estimator.estimate_policy_value(events) == pytest.approx(float(np.mean(REWARD)))


def test_no_support_gives_nan_not_an_error() -> None:
    events = ScoredEvents(
        rewards=np.asarray([1.0, 0.0]),
        weights=np.zeros(2),
        direct=np.zeros(2),
        q_chosen=np.zeros(2),
        accepted=np.zeros(2, dtype=bool),
    )

    assert math.isnan(get_estimator("replay").estimate_policy_value(events))
    assert math.isnan(get_estimator("snips").estimate_policy_value(events))
    assert get_estimator("ips").estimate_policy_value(events) == 0.0


def test_the_registry_is_read_only_and_names_the_valid_estimators() -> None:
    assert estimator_names() == ("replay", "ips", "snips", "dr")
    with pytest.raises(TypeError):
        ESTIMATORS["dm"] = ESTIMATORS["dr"]  # type: ignore[index]
    with pytest.raises(ValueError, match="known: replay, ips, snips, dr"):
        get_estimator("switch")


def test_scored_events_check_their_lengths() -> None:
    with pytest.raises(ValueError, match="weights must have 2 entries"):
        ScoredEvents(np.zeros(2), np.zeros(3), np.zeros(2), np.zeros(2), np.zeros(2, dtype=bool))


def test_replay_interval_has_width_when_every_kept_reward_is_zero() -> None:
    events = ScoredEvents(
        rewards=np.zeros(50),
        weights=np.ones(50),
        direct=np.zeros(50),
        q_chosen=np.zeros(50),
        accepted=np.ones(50, dtype=bool),
    )

    estimate = get_estimator("replay").estimate_interval(events)

    # Wilson: the upper end for 0 of 50 is z^2 / (n + z^2), about 0.071.
    assert estimate.value == 0.0 and estimate.low == pytest.approx(0.0, abs=1e-12)
    assert estimate.high == pytest.approx(1.96**2 / (50 + 1.96**2), rel=1e-3)
    assert get_estimator("ips").estimate_interval(events).high == 0.0  # the normal one collapses

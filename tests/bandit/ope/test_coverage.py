"""Every estimator's 95% interval covers the true policy value on logs of a non-uniform
logging policy, in at least 90% of 200 seeds (slow: two to four minutes on two cores)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from artwork.bandit.ope.evaluate import Event, evaluate
from artwork.bandit.ope.registry import estimator_names
from artwork.bandit.ope.specs import AlwaysTarget, FixedTarget, LoggedTarget, TargetPolicy
from artwork.bandit.simulator import ArtworkWorld, WorldConfig, policy_log
from artwork.domain import Decision

SEEDS = 200
EVENTS = 1000  # 200 visits of 5 titles


class TableTarget:
    """A fixed policy given as probabilities per member, title and variant."""

    def __init__(self, name: str, world: ArtworkWorld, pi: np.ndarray) -> None:
        self.name = name
        self._world = world
        self._pi = pi

    def pmf(self, decision: Decision) -> Sequence[float]:
        member = self._world.member_of(decision.user_id)
        return self._pi[member, self._world.title_of(decision.title_id)].tolist()

    def learn(self, decision: Decision, reward: float) -> None:
        return None


@pytest.mark.slow
def test_intervals_cover_the_truth_on_non_uniform_logs() -> None:
    world = ArtworkWorld(WorldConfig(members=300, titles=20, variants=4, base_take=0.3, seed=7))
    # Logging: a noisy softmax over the true take rates, 30% uniform: propensities 0.075..0.78.
    logging = world.softmax_policy(0.05, 0.3, noise=0.05, seed=1)
    oracle = np.zeros_like(logging)
    members, titles = np.indices(world.oracle().shape)
    oracle[members, titles, world.oracle()] = 1.0
    second = np.zeros_like(logging)
    second[:, :, 1] = 1.0
    softer = world.softmax_policy(0.1, 0.0)
    truth = {
        "logged": world.policy_value(logging),
        "uniform": world.policy_value(np.full_like(logging, 0.25)),
        "always:rank=1": world.policy_value(second),
        "oracle": world.policy_value(oracle),
        "softmax": world.policy_value(softer),
    }
    covered = {(policy, name): 0 for policy in truth for name in estimator_names()}
    dr_logged_inside = 0
    for seed in range(SEEDS):
        visits = list(world.visits(EVENTS // 5, 5, seed=seed, every_s=10.0))
        events = [Event(d, r) for d, r in policy_log(world, visits, logging, seed=seed)]
        targets: list[TargetPolicy] = [
            LoggedTarget(),
            FixedTarget("uniform", 1.0),
            AlwaysTarget("always:rank=1", rank=1),
            TableTarget("oracle", world, oracle),
            TableTarget("softmax", world, softer),
        ]
        results = evaluate(events, targets, seed=seed)
        for result in results:
            for name, estimate in result.estimates.items():
                assert 0.0 <= estimate.value <= 1.0 and not estimate.clipped
                covered[result.name, name] += estimate.low <= truth[result.name] <= estimate.high
        logged = results[0].estimates
        dr_logged_inside += logged["ips"].low <= logged["dr"].value <= logged["ips"].high
        assert logged["ips"].value == pytest.approx(np.mean([e.reward for e in events]))

    rates = {key: count / SEEDS for key, count in covered.items()}
    print("coverage over", SEEDS, "seeds:", {f"{p}/{n}": r for (p, n), r in rates.items()})
    assert min(rates.values()) >= 0.90, rates
    assert dr_logged_inside == SEEDS  # DR of the logging policy within the mean's interval

"""The simulated world and the benchmark built on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from artwork.bandit.simulator import (
    TAGS,
    ArtworkWorld,
    WorldConfig,
    best_single_strategy,
    oracle_strategy,
    policy_log,
    run_contextual,
    run_online,
    simulate,
    uniform_log,
    uniform_strategy,
)
from artwork.bench.bandit import benchmark_settings, main
from artwork.config import Settings

SMALL = WorldConfig(members=60, titles=8, variants=4, seed=5)


def test_the_world_is_reproducible_and_personal() -> None:
    world, again = ArtworkWorld(SMALL), ArtworkWorld(SMALL)
    assert np.array_equal(world.probabilities, again.probabilities)
    assert world.variants["title-0000"][0].tags == again.variants["title-0000"][0].tags

    p = world.probabilities
    oracle = p.max(axis=2).mean()
    best = np.mean([p[:, t, world.best_single()[t]].mean() for t in range(SMALL.titles)])
    assert p.mean() < best < oracle
    assert (world.oracle() != world.best_single()[None, :]).mean() > 0.3  # tastes differ


def test_profiles_are_a_noisy_view_of_the_latent_taste() -> None:
    world = ArtworkWorld(WorldConfig(members=300, titles=2, seed=1))
    observed = np.array([[world.profiles[m].tags[t] for t in TAGS] for m in range(300)])
    latent = world.theta.copy()
    latent[:, TAGS.index("close-up face")] += world.face_taste
    correlation = np.corrcoef(observed.ravel(), latent.ravel())[0, 1]
    assert correlation > 0.8


def test_contexts_and_visits() -> None:
    world = ArtworkWorld(SMALL)
    visits = list(world.visits(20, 3, seed=2, every_s=10))
    assert len(visits) == 20 and all(len(set(v.titles)) == 3 for v in visits)
    assert (visits[1].when - visits[0].when).total_seconds() == 10
    context = world.context(visits[0].member, visits[0].when)
    assert context.user_id == world.member_id(visits[0].member)
    assert context.profile is world.profiles[visits[0].member]
    with pytest.raises(ValueError, match="page_size"):
        next(world.visits(1, 99, seed=0, every_s=1))


def test_fixed_strategies_rank_as_expected() -> None:
    world = ArtworkWorld(SMALL)
    visits = list(world.visits(400, 4, seed=3, every_s=1))
    random = run_online(world, "random", uniform_strategy(world), visits)
    best = run_online(world, "best_single", best_single_strategy(world), visits)
    oracle = run_online(world, "oracle", oracle_strategy(world), visits)

    assert random.take_fraction < best.take_fraction < oracle.take_fraction
    assert oracle.regret()[-1] == pytest.approx(0.0)
    assert random.regret()[-1] > best.regret()[-1] > 0


def test_the_real_service_runs_through_the_world(tmp_path: Path) -> None:
    world = ArtworkWorld(SMALL)
    visits = list(world.visits(150, 4, seed=4, every_s=2.0))
    settings = Settings(home=tmp_path, reward_wait_s=60.0, snapshot_interval_s=10.0)

    result = run_contextual(
        world, visits, settings, f"sqlite:///{tmp_path}/sim.db", reward_delay_s=30.0, seed=1
    )

    assert len(result.run.shown) == 600
    assert result.run.late_rewards > 0  # some rewards missed the 60 s window
    assert result.rewards_recorded + result.run.late_rewards == result.run.takes
    assert result.learner.events_learned == 600  # drained: every decision learned once
    assert result.bandit.model_version == result.learner.version
    result.bandit.log.engine.dispose()


def test_a_uniform_log_explores_uniformly() -> None:
    world = ArtworkWorld(SMALL)
    log = uniform_log(world, list(world.visits(100, 4, seed=6, every_s=1)))
    assert len(log) == 400
    assert all(d.probabilities == (0.25,) * 4 for d, _ in log)
    shown = np.bincount([d.chosen_index for d, _ in log], minlength=4)
    assert shown.min() > 60


@pytest.mark.slow
def test_online_the_bandit_beats_the_best_single_image(tmp_path: Path) -> None:
    simulation = simulate(
        WorldConfig(seed=0),
        benchmark_settings(tmp_path),
        f"sqlite:///{tmp_path}/sim.db",
        decisions=10_000,
    )
    take = simulation.summary()["take_fraction"]
    simulation.bandit.log.engine.dispose()
    assert take["random"] < take["best_single"] < take["contextual"] < take["oracle"]


@pytest.mark.slow
def test_the_benchmark_script_reports_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "regret.png"
    assert main(["--json", "--decisions", "1500", "--plot", str(plot)]) == 0
    result = json.loads(capsys.readouterr().out)

    assert set(result["take_fraction"]) == {"random", "best_single", "contextual", "oracle"}
    assert set(result["replay"]) == set(result["take_fraction"])
    assert result["decision_us_p50"] > 0 and result["learn_events_per_s"] > 0
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_a_non_uniform_logging_policy_logs_its_distribution_and_true_values_follow() -> None:
    world = ArtworkWorld(SMALL)
    logging = world.softmax_policy(0.05, 0.2, noise=0.05)
    visits = list(world.visits(400, 4, seed=1, every_s=10.0))

    log = policy_log(world, visits, logging, seed=2)

    assert logging.min() >= 0.2 / 4 and np.allclose(logging.sum(axis=2), 1.0)
    assert logging.max() > 0.5  # far from uniform
    first, _ = log[0]
    member, title = world.member_of(first.user_id), world.title_of(first.title_id)
    assert first.probabilities == tuple(logging[member, title])
    shown = np.mean([logging[world.member_of(d.user_id), world.title_of(d.title_id)][
        d.chosen_index] for d, _ in log])  # fmt: skip
    assert shown > 0.4  # the draws follow the logged distribution, not a uniform one
    mean = float(np.mean([reward for _, reward in log]))
    assert mean == pytest.approx(world.policy_value(logging), abs=0.05)
    uniform = np.full_like(logging, 0.25)
    assert world.policy_value(uniform) == pytest.approx(float(world.probabilities.mean()))
    with pytest.raises(ValueError, match="shape"):
        world.policy_value(uniform[:, :, :2])
    with pytest.raises(ValueError, match="temperature"):
        world.softmax_policy(0.0, 0.1)

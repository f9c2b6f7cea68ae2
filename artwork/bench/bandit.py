"""The bandit benchmark: random < best single image < contextual bandit, by replay and online.

One run of :func:`run_benchmark` (``scripts/bench_bandit.py``):

1. **online** (:func:`artwork.bandit.simulator.simulate`, as ``artwork simulate``): the
   default simulated world serves pages to members; uniform random artwork, the best single
   image per title, the oracle, and the real bandit service (``ArtworkBandit`` + ``Learner``
   on SQLite, simulated clock, delayed rewards, consistency and cold start on) make the same
   decisions. ``take_fraction`` scores each policy
   as it stands after the run, exploiting, on fresh visits with the world's true take
   probabilities; ``online`` is the mean over the run itself (the bandit exploring and
   learning); the regret curves against the oracle go to a PNG.
2. **replay**: a log of uniformly random exploration, twice as long, is replayed (Li et al.,
   2011): the first half trains the progressive target policies (the best image per title by
   observed take rate, the bandit's policy), the second half scores them (while they go on
   learning), with IPS, SNIPS and DR beside replay.
3. **speed**: the median time of one decision over 8 variants in process (features, policy,
   draw; no database), and the learner's throughput reading the log from SQLite (one core).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from artwork.bandit.learner import Learner
from artwork.bandit.ope.evaluate import Event, evaluate
from artwork.bandit.ope.report import as_json
from artwork.bandit.ope.specs import FixedTarget, LearningTarget, TargetPolicy
from artwork.bandit.simulator import (
    POLICIES,
    START,
    VISIT_EVERY_S,
    ArtworkWorld,
    OnlineRun,
    WorldConfig,
    simulate,
    uniform_log,
)
from artwork.bandit.vw_policy import EpsilonGreedyPolicy
from artwork.config import Settings
from artwork.domain import Decision


def benchmark_settings(home: Path) -> Settings:
    """The service's defaults, except snapshots every 30 simulated seconds instead of 2 (the
    simulation packs 50,000 decisions into 42 simulated minutes)."""
    return Settings(home=home, snapshot_interval_s=30.0)


class BestSingleTarget:
    """Per title, the variant with the best observed take rate so far (progressive)."""

    name = "best_single"

    def __init__(self) -> None:
        self._shows: dict[str, np.ndarray] = {}
        self._takes: dict[str, np.ndarray] = {}

    def pmf(self, decision: Decision) -> Sequence[float]:
        count = len(decision.action_ids)
        shows = self._shows.get(decision.title_id, np.zeros(count))
        takes = self._takes.get(decision.title_id, np.zeros(count))
        rates = (takes + 1.0) / (shows + 2.0)
        probabilities = [0.0] * count
        probabilities[int(np.argmax(rates))] = 1.0
        return probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        count = len(decision.action_ids)
        shows = self._shows.setdefault(decision.title_id, np.zeros(count))
        takes = self._takes.setdefault(decision.title_id, np.zeros(count))
        shows[decision.chosen_index] += 1.0
        takes[decision.chosen_index] += reward


class OracleTarget:
    """The world's best variant per member and title."""

    name = "oracle"

    def __init__(self, world: ArtworkWorld) -> None:
        self._world = world
        self._oracle = world.oracle()

    def pmf(self, decision: Decision) -> Sequence[float]:
        member = self._world.member_of(decision.user_id)
        title = self._world.title_of(decision.title_id)
        probabilities = [0.0] * len(decision.action_ids)
        probabilities[int(self._oracle[member, title])] = 1.0
        return probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        return None


def replay_benchmark(
    world: ArtworkWorld, settings: Settings, decisions: int, seed: int
) -> list[dict[str, Any]]:
    """Replay on a uniformly random log of ``decisions``: learn from the first half, score
    the second (see the module)."""
    visits = list(world.visits(decisions // 5, 5, seed + 1, VISIT_EVERY_S))
    log = uniform_log(world, visits, seed=seed)
    events = [Event(decision, reward) for decision, reward in log]

    targets: list[TargetPolicy] = [
        FixedTarget("random", 1.0),
        BestSingleTarget(),
        LearningTarget("contextual", EpsilonGreedyPolicy.from_settings(settings)),
        OracleTarget(world),
    ]
    results = evaluate(events, targets, warmup=len(events) // 2, seed=seed)
    return as_json(results)


def decision_time_us(bandit: Any, world: ArtworkWorld, calls: int = 5000) -> float:
    """Median microseconds of ``ArtworkBandit.decide`` over one title's variants, warm."""
    title_id = world.title_ids[0]
    variants = world.variants[title_id]
    context = world.context(0, START)
    for _ in range(200):
        bandit.decide(context, title_id, variants)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        bandit.decide(context, title_id, variants)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def learn_rate(database_url: str, settings: Settings) -> tuple[float, int]:
    """Events per second of a learner relearning the whole log (``--rebuild``), from SQLite."""
    from artwork.catalog.database import create_database_engine

    engine = create_database_engine(database_url)
    later = START + timedelta(days=30)
    try:
        learner = Learner(engine, settings, clock=lambda: later, rebuild=True)
        started = time.perf_counter()
        learned = learner.catch_up()
        elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    return learned / elapsed, learned


def plot_regret(runs: dict[str, OnlineRun], path: Path, title: str) -> Path:
    """Cumulative expected regret against the oracle, per decision, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name in ("random", "best_single", "contextual"):
        regret = runs[name].regret()
        axes.plot(np.arange(1, len(regret) + 1), regret, label=name)
    axes.set_xlabel("decisions")
    axes.set_ylabel("cumulative expected regret vs oracle (takes)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def run_benchmark(
    *,
    decisions: int = 50_000,
    seed: int = 0,
    plot: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Everything in the module docstring, in one run.

    Returns:
        JSON-ready: ``take_fraction``, ``online``, ``online_last``, ``replay``,
        ``decision_us_p50``, ``learn_events_per_s``, ``targets`` and the run's details.
    """
    say = progress or (lambda _line: None)
    with tempfile.TemporaryDirectory(prefix="artwork-bench-") as scratch:
        home = Path(scratch)
        settings = benchmark_settings(home)
        url = f"sqlite:///{home / 'benchmark.db'}"
        say(f"online: {decisions} decisions through the bandit service ...")
        started = time.perf_counter()
        simulation = simulate(WorldConfig(seed=seed), settings, url, decisions=decisions, seed=seed)
        online_s = time.perf_counter() - started
        online = simulation.summary()
        say("speed: one decision in process ...")
        decision_us = decision_time_us(simulation.bandit, simulation.world)
        simulation.bandit.log.engine.dispose()
        say("speed: the learner relearning the log ...")
        per_s, learned = learn_rate(url, settings)
        say("replay: a uniformly random log ...")
        replay = replay_benchmark(simulation.world, settings, 2 * decisions, seed)
        runs = simulation.runs
    replay_take = {row["policy"]: row["estimates"]["replay"]["value"] for row in replay}
    take = online["take_fraction"]
    result: dict[str, Any] = {
        "decisions": online["decisions"],
        "take_fraction": take,
        "online": online["online"],
        "online_last": online["online_last"],
        "replay": {name: replay_take[name] for name in POLICIES},
        "replay_detail": replay,
        "decision_us_p50": decision_us,
        "learn_events_per_s": per_s,
        "learn_events": learned,
        "rewards": online["rewards"],
        "late_rewards": online["late_rewards"],
        "online_seconds": online_s,
        "targets": {
            "contextual_vs_oracle": take["contextual"] / take["oracle"],
            "contextual_vs_best_single": take["contextual"] / take["best_single"] - 1.0,
            "ordering_online": take["random"] < take["best_single"] < take["contextual"],
            "ordering_replay": replay_take["random"]
            < replay_take["best_single"]
            < replay_take["contextual"],
        },
    }
    if plot is not None:
        plot_regret(
            runs, plot, f"online regret, default simulator, {online['decisions']} decisions"
        )
        result["plot"] = str(plot)
    return result


def format_report(result: dict[str, Any]) -> str:
    """The benchmark as a small plain-text table."""
    lines = [
        f"{'policy':<12}{'take (after)':>14}{'online':>10}{'online last':>13}{'replay':>10}",
    ]
    for name in POLICIES:
        lines.append(
            f"{name:<12}{result['take_fraction'][name]:>14.4f}{result['online'][name]:>10.4f}"
            f"{result['online_last'][name]:>13.4f}{result['replay'][name]:>10.4f}"
        )
    targets = result["targets"]
    lines += [
        "",
        f"contextual / oracle          {targets['contextual_vs_oracle']:.1%}",
        f"contextual vs best single    {targets['contextual_vs_best_single']:+.1%}",
        f"decision over 8 variants     {result['decision_us_p50']:.1f} us (median, in process)",
        f"learner                      {result['learn_events_per_s']:.0f} events/s "
        f"({result['learn_events']} events from SQLite)",
    ]
    if "plot" in result:
        lines.append(f"regret curve                 {result['plot']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench_bandit.py [--json] [--decisions N] [--seed S] [--plot PATH]``."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--decisions", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--plot", type=Path, default=Path("bench_bandit_regret.png"), help="regret curve PNG"
    )
    args = parser.parse_args(argv)
    if args.decisions < 100:
        parser.error("--decisions must be >= 100")
    result = run_benchmark(
        decisions=args.decisions,
        seed=args.seed,
        plot=args.plot,
        progress=lambda line: print(line, file=sys.stderr),
    )
    if args.json:
        print(json.dumps(result, default=_json_default))
    else:
        print(format_report(result))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

"""Off-policy evaluation: replay, IPS, SNIPS and DR recover known values from logs, with
honest intervals, effective sample sizes and support diagnostics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from artwork.bandit.log import DecisionLog
from artwork.bandit.ope.evaluate import Event, evaluate, resolved_events
from artwork.bandit.ope.report import as_json, format_table, plot
from artwork.bandit.ope.specs import FixedTarget, LearningTarget, LoggedTarget
from artwork.bandit.vw_policy import EpsilonGreedyPolicy
from artwork.catalog.database import create_database_engine
from artwork.config import Settings
from artwork.domain import Decision

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
# Members of two kinds; two variants. True take probabilities by kind and variant:
TRUTH = {"a": (0.2, 0.6), "b": (0.5, 0.1)}


class Pick:
    """Always the given variant for each member kind."""

    def __init__(self, name: str, choice: dict[str, int]) -> None:
        self.name = name
        self._choice = choice

    def pmf(self, decision: Decision) -> Sequence[float]:
        probabilities = [0.0, 0.0]
        probabilities[self._choice[decision.user_id[0]]] = 1.0
        return probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        return None


def logged(count: int, logging: Sequence[float] = (0.5, 0.5), seed: int = 1) -> list[Event]:
    rng = np.random.default_rng(seed)
    events = []
    for n in range(count):
        kind = "a" if rng.random() < 0.5 else "b"
        chosen = int(rng.choice(2, p=logging))
        decision = Decision(
            event_id=f"e{n}",
            created_at=WHEN,
            user_id=f"{kind}{n % 50}",
            title_id="t1",
            context={"member": {f"kind={kind}": 1.0}},
            action_ids=("v0", "v1"),
            action_features=(
                {"variant": {"id=v0": 1.0}, "tags": {"face": 1.0}},
                {"variant": {"id=v1": 1.0}, "tags": {"landscape": 1.0}},
            ),
            probabilities=tuple(logging),
            chosen_index=chosen,
            model_version=0,
            policy={"name": "test"},
        )
        events.append(Event(decision, float(rng.random() < TRUTH[kind][chosen])))
    return events


def true_value(choice: dict[str, int]) -> float:
    return 0.5 * TRUTH["a"][choice["a"]] + 0.5 * TRUTH["b"][choice["b"]]


def test_estimators_recover_known_values_from_a_uniform_log() -> None:
    events = logged(6000)
    best, worst = {"a": 1, "b": 0}, {"a": 0, "b": 1}

    results = evaluate(events, [Pick("best", best), Pick("worst", worst)])

    for result, choice in zip(results, (best, worst), strict=True):
        truth = true_value(choice)
        for name, estimate in result.estimates.items():
            assert estimate.low < estimate.value < estimate.high, name
            assert abs(estimate.value - truth) < 4 * (estimate.high - estimate.low) / 3.92, name
        assert result.replay_kept == pytest.approx(3000, rel=0.1)
        assert result.ess == pytest.approx(3000, rel=0.1)  # half the events match
        assert result.unsupported == 0.0
    assert results[0].estimates["snips"].value > results[1].estimates["snips"].value


def test_the_logging_policy_evaluates_to_the_mean_reward_with_full_ess() -> None:
    events = logged(500, logging=(0.8, 0.2))
    (result,) = evaluate(events, [LoggedTarget()])

    mean = float(np.mean([event.reward for event in events]))
    assert result.estimates["ips"].value == pytest.approx(mean)
    assert result.estimates["snips"].value == pytest.approx(mean)
    assert result.ess == pytest.approx(500)


def test_a_deterministic_baseline_log_cannot_evaluate_other_policies() -> None:
    events = logged(300, logging=(1.0, 0.0))  # apprentice mode without exploration
    baseline, uniform = evaluate(
        events, [FixedTarget("baseline", 0.0), FixedTarget("uniform", 1.0)]
    )

    assert baseline.unsupported == 0.0
    assert uniform.unsupported == pytest.approx(0.5)  # half its mass was never shown


def test_a_learning_target_is_trained_progressively_and_beats_uniform() -> None:
    events = logged(3000)
    learner = LearningTarget("vw", EpsilonGreedyPolicy.from_settings(Settings(epsilon=0.05)))

    vw, uniform = evaluate(events, [learner, FixedTarget("uniform", 1.0)], warmup=1000)

    assert vw.events == 2000
    assert vw.estimates["dr"].value > uniform.estimates["dr"].value + 0.1
    assert learner.policy.version == 3000


def test_bootstrap_intervals_surround_the_estimate() -> None:
    events = logged(800)
    (first,) = evaluate(events, [Pick("best", {"a": 1, "b": 0})], bootstrap=200, seed=3)
    (again,) = evaluate(events, [Pick("best", {"a": 1, "b": 0})], bootstrap=200, seed=3)

    assert first == again
    for estimate in first.estimates.values():
        assert estimate.low < estimate.value < estimate.high


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"confidence": 1.0}, "confidence"),
        ({"warmup": 10}, "no event"),
        ({"bootstrap": -1}, "bootstrap"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        evaluate(logged(10), [LoggedTarget()], **kwargs)  # type: ignore[arg-type]


def test_resolved_events_take_rewards_or_the_default_and_leave_pending_out(
    tmp_path: Path,
) -> None:
    engine: Engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    log = DecisionLog(engine)
    events = logged(3)
    for n, event in enumerate(events):
        log.append(
            Decision(**{**_fields(event.decision), "created_at": WHEN + timedelta(minutes=n * 10)})
        )
    log.record_reward("e2", 1.0, WHEN + timedelta(minutes=20))
    settings = Settings(reward_wait_s=600.0, default_reward=-0.5)

    resolved, pending = resolved_events(log, settings, WHEN + timedelta(minutes=15))
    engine.dispose()

    assert [(e.decision.event_id, e.reward) for e in resolved] == [("e0", -0.5), ("e2", 1.0)]
    assert pending == 1


def test_table_json_and_plot(tmp_path: Path) -> None:
    results = evaluate(logged(400), [LoggedTarget(), Pick("best", {"a": 1, "b": 0})])

    table = format_table(results)
    assert "logged" in table and "best" in table and "snips" in table
    payload = as_json(results)
    assert payload[1]["policy"] == "best" and set(payload[1]["estimates"]) == {
        "replay", "ips", "snips", "dr"
    }  # fmt: skip
    assert payload[1]["estimates"]["dr"]["clipped"] is False
    assert payload[1]["replay_kept"] > 0 and payload[1]["warnings"] == []
    path = plot(results, tmp_path / "out" / "ope.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(math.isnan(e.value) for r in results for e in r.estimates.values())


def _fields(decision: Decision) -> dict[str, object]:
    return {name: getattr(decision, name) for name in Decision.__dataclass_fields__}


def test_dr_of_the_logging_policy_lies_within_the_interval_of_the_mean_reward() -> None:
    events = logged(2000, logging=(0.9, 0.1))
    mean = float(np.mean([event.reward for event in events]))

    (result,) = evaluate(events, [LoggedTarget()])

    ips, dr = result.estimates["ips"], result.estimates["dr"]
    assert ips.value == pytest.approx(mean)  # w = 1: IPS is the mean reward
    assert ips.low <= dr.value <= ips.high
    assert dr.value != pytest.approx(mean, abs=1e-12)  # the full-distribution direct term
    assert result.replay_kept == 2000 and result.estimates["replay"].value == pytest.approx(mean)


def test_a_partial_distribution_leaves_the_logging_policys_dr_at_the_mean_reward() -> None:
    events = [
        Event(replace(e.decision, policy={"name": "imported", "pmf": "partial"}), e.reward)
        for e in logged(500, logging=(0.9, 0.1))
    ]
    mean = float(np.mean([event.reward for event in events]))

    (result,) = evaluate(events, [LoggedTarget()])

    assert result.estimates["dr"].value == pytest.approx(mean)


def test_estimates_stay_in_the_reward_range_and_clipping_is_flagged() -> None:
    # Rewards of 1 on a rarely shown action: IPS of always showing it exceeds 1 on this log.
    events = logged(60, logging=(0.95, 0.05), seed=2)
    events = [Event(e.decision, float(e.decision.chosen_index == 1)) for e in events]

    (result,) = evaluate(events, [Pick("rare", {"a": 1, "b": 1})], min_ess=10)

    for name, estimate in result.estimates.items():
        assert 0.0 <= estimate.low <= estimate.value <= estimate.high <= 1.0, name
    assert result.estimates["ips"].clipped
    assert any("ips" in note and "reward range" in note for note in result.warnings)
    assert "!" in format_table([result])


def test_a_small_effective_sample_size_is_warned_about() -> None:
    events = logged(400, logging=(0.95, 0.05))

    rare, common = evaluate(events, [FixedTarget("rare", 0.0), Pick("second", {"a": 1, "b": 1})])

    assert rare.ess > 100 and not any("effective sample size" in w for w in rare.warnings)
    assert common.ess < 100
    assert any("effective sample size" in w for w in common.warnings)
    assert "warning: second: effective sample size" in format_table([rare, common])


def test_a_target_policy_giving_a_bad_distribution_is_named() -> None:
    class Broken(Pick):
        def pmf(self, decision: Decision) -> Sequence[float]:
            return [0.5, 0.6]

    with pytest.raises(ValueError, match=r"broken.*sum to 1\.1"):
        evaluate(logged(10), [Broken("broken", {})])


def test_only_the_estimators_asked_for_are_reported() -> None:
    (result,) = evaluate(logged(50), [LoggedTarget()], estimators=["snips", "ips"])

    assert list(result.estimates) == ["snips", "ips"]
    with pytest.raises(ValueError, match="known: replay, ips, snips, dr"):
        evaluate(logged(50), [LoggedTarget()], estimators=["magic"])


def test_an_interval_without_width_is_warned_about() -> None:
    events = [Event(e.decision, float(e.decision.chosen_index == 0)) for e in logged(200)]

    (second,) = evaluate(events, [Pick("second", {"a": 1, "b": 1})])

    assert second.estimates["ips"].low == second.estimates["ips"].high == 0.0
    assert any("ips" in note and "no width" in note for note in second.warnings)
    assert second.estimates["replay"].high > 0.0  # Wilson: not flat

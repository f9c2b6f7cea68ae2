"""ArtworkBandit: decisions are logged with the probability they were shown with (cold start,
consistency, apprentice mode), rewards are recorded (not learned) once and in time, serving
hot-swaps to newer snapshots, and all of it is safe from threads."""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.features import action_features, shared_features
from artwork.bandit.learner import Learner
from artwork.bandit.rewards import RewardEvent
from artwork.catalog.database import create_database_engine
from artwork.config import Settings
from artwork.domain import Context, Decision, Variant, VariantStatus
from artwork.errors import EventNotFoundError, RewardWindowClosedError

NOW = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)
CONTEXT = Context("u1", "tv", hour=20, weekday=5)


class Clock:
    def __init__(self) -> None:
        self.time = NOW

    def __call__(self) -> datetime:
        return self.time


def make_variant(
    index: int, title_id: str = "t1", status: VariantStatus = VariantStatus.APPROVED
) -> Variant:
    return Variant(
        variant_id=f"{title_id}-v{index}",
        title_id=title_id,
        rank=index,
        frame_time_s=float(index),
        score=0.5,
        scores={"sharpness": 0.5 + 0.05 * index, "exposure": 0.6},
        tags={"face": 0.9} if index % 2 else {"landscape": 0.7},
        embedder="fallback",
        image_path=f"{title_id}/v{index}.jpg",
        width=320,
        height=180,
        status=status,
    )


VARIANTS = [make_variant(i) for i in range(4)]
PLAIN = {"cold_start_epsilon": 0.0, "consistency_window_s": 0.0}
"""Settings that leave the policy's own probabilities untouched."""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_bandit(engine: Engine, clock: Clock, **overrides: Any) -> ArtworkBandit:
    settings = Settings(**{"epsilon": 0.2, "commit_grace_s": 0.0} | overrides)
    return ArtworkBandit(engine, settings, rng=np.random.default_rng(2026), clock=clock)


@pytest.fixture
def bandit(engine: Engine, clock: Clock) -> ArtworkBandit:
    return make_bandit(engine, clock, **PLAIN)


def learn_now(engine: Engine, bandit: ArtworkBandit, clock: Clock) -> int:
    """Run a learner over what is ready and swap the bandit to its snapshot."""
    Learner(engine, bandit.settings, clock=clock).catch_up()
    bandit.refresh()
    return bandit.model_version


def test_choose_logs_the_whole_decision(bandit: ArtworkBandit) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)

    assert bandit.log.get(decision.event_id) == decision
    assert len(decision.event_id) == 32
    assert int(decision.event_id, 16) >= 0
    assert decision.created_at == NOW
    assert (decision.user_id, decision.title_id) == ("u1", "t1")
    assert decision.action_ids == tuple(v.variant_id for v in VARIANTS)
    assert decision.context["member"] == {"id=u1": 1.0}
    assert decision.action_features[2]["variant"] == {"id=t1-v2": 1.0, "rank=2": 1.0}
    assert decision.probabilities == pytest.approx([0.85, 0.05, 0.05, 0.05])
    assert math.fsum(decision.probabilities) == pytest.approx(1.0, abs=1e-12)
    assert decision.model_version == 0
    assert decision.policy["name"] == "vw_epsilon_greedy"
    assert decision.policy["epsilon"] == 0.2
    assert decision.policy["mode"] == "online"
    assert decision.policy["sticky_variant"] == ""


def test_draws_follow_the_logged_probabilities(bandit: ArtworkBandit) -> None:
    picks = [bandit.choose(CONTEXT, "t1", VARIANTS).chosen_index for _ in range(400)]

    assert picks.count(0) / len(picks) == pytest.approx(0.85, abs=0.06)
    assert set(picks) == set(range(4))


def test_new_titles_explore_more_and_less_as_impressions_grow(engine: Engine, clock: Clock) -> None:
    bandit = make_bandit(
        engine, clock, cold_start_epsilon=0.4, cold_start_impressions=10, consistency_window_s=0
    )
    policy_pmf = [0.85, 0.05, 0.05, 0.05]
    for n in range(25):
        decision = bandit.choose(Context(f"m{n}", "tv", 20, 5), "t1", VARIANTS)
        extra = 0.4 * 10 / (10 + n)
        expected = [(1 - extra) * p + extra / 4 for p in policy_pmf]
        assert decision.probabilities == pytest.approx(expected)
        assert decision.policy["extra_exploration"] == pytest.approx(extra)
    # A restarted process counts the impressions already logged.
    again = make_bandit(
        engine, clock, cold_start_epsilon=0.4, cold_start_impressions=10, consistency_window_s=0
    )
    assert again.choose(CONTEXT, "t1", VARIANTS).policy["extra_exploration"] == pytest.approx(
        0.4 * 10 / 35
    )


def test_a_member_keeps_their_artwork_unless_an_exploration_step_is_drawn(
    engine: Engine, clock: Clock
) -> None:
    bandit = make_bandit(
        engine, clock, cold_start_epsilon=0.0, consistency_window_s=3600, consistency_explore=0.1
    )
    first = bandit.choose(CONTEXT, "t1", VARIANTS)
    sticky = first.chosen_index
    assert first.policy["sticky_variant"] == ""  # nothing shown before

    clock.time += timedelta(minutes=30)
    second = bandit.choose(CONTEXT, "t1", VARIANTS)

    # p(a) = (1 - x) 1[a = sticky] + x pi(a)
    expected = [0.1 * p for p in (0.85, 0.05, 0.05, 0.05)]
    expected[sticky] += 0.9
    assert second.probabilities == pytest.approx(expected)
    assert second.policy["sticky_variant"] == VARIANTS[sticky].variant_id
    # Another member, another title, or after the window: the policy's own probabilities.
    assert bandit.choose(Context("u2", "tv", 20, 5), "t1", VARIANTS).policy["sticky_variant"] == ""
    clock.time += timedelta(hours=2)
    assert bandit.choose(CONTEXT, "t1", VARIANTS).policy["sticky_variant"] == ""


def test_consistency_holds_in_practice(engine: Engine, clock: Clock) -> None:
    bandit = make_bandit(
        engine, clock, cold_start_epsilon=0.3, consistency_window_s=86400, consistency_explore=0.1
    )
    shown = []
    for _ in range(200):
        clock.time += timedelta(minutes=1)
        shown.append(bandit.choose(CONTEXT, "t1", VARIANTS).chosen_variant_id)
    flips = sum(a != b for a, b in itertools.pairwise(shown))
    assert flips < 200 * 0.1  # a flip needs an exploration step that lands elsewhere


def test_a_sticky_variant_that_is_no_longer_approved_is_not_forced(
    engine: Engine, clock: Clock
) -> None:
    bandit = make_bandit(engine, clock, cold_start_epsilon=0.0, consistency_window_s=3600)
    first = bandit.choose(CONTEXT, "t1", VARIANTS)
    remaining = [v for v in VARIANTS if v.variant_id != first.chosen_variant_id]

    second = bandit.choose(CONTEXT, "t1", remaining)

    assert second.policy["sticky_variant"] == ""
    assert math.fsum(second.probabilities) == pytest.approx(1.0)


def test_apprentice_mode_serves_the_editorial_default_with_propensity_one(
    engine: Engine, clock: Clock
) -> None:
    bandit = make_bandit(engine, clock, bandit_mode="apprentice", consistency_window_s=0)
    decisions = [bandit.choose(Context(f"m{n}", "tv", 20, 5), "t1", VARIANTS) for n in range(30)]

    assert {d.chosen_index for d in decisions} == {0}
    assert all(d.probabilities == (1.0, 0.0, 0.0, 0.0) for d in decisions)
    assert decisions[0].policy["mode"] == "apprentice"
    assert decisions[0].policy["extra_exploration"] == 0.0  # no cold-start exploration either

    mixed = make_bandit(
        engine, clock, bandit_mode="apprentice", apprentice_epsilon=0.2, consistency_window_s=0
    )
    assert mixed.choose(CONTEXT, "t2", [make_variant(i, "t2") for i in range(4)]).probabilities == (
        pytest.approx((0.85, 0.05, 0.05, 0.05))
    )


def test_apprentice_logs_still_teach_the_learner(engine: Engine, clock: Clock) -> None:
    bandit = make_bandit(engine, clock, bandit_mode="apprentice", consistency_window_s=0)
    for n in range(5):
        decision = bandit.choose(Context(f"m{n}", "tv", 20, 5), "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0)

    assert learn_now(engine, bandit, clock) == 5
    assert bandit.choose(CONTEXT, "t1", VARIANTS).chosen_index == 0


def test_choose_rejects_bad_variants_naming_them(bandit: ArtworkBandit) -> None:
    with pytest.raises(ValueError, match="'t1'"):
        bandit.choose(CONTEXT, "t1", [])
    with pytest.raises(ValueError, match=r"'t2-v0'.*'t2'"):
        bandit.choose(CONTEXT, "t1", [make_variant(0, "t2")])
    with pytest.raises(ValueError, match=r"'t1-v1'.*approved"):
        bandit.choose(
            CONTEXT, "t1", [make_variant(0), make_variant(1, status=VariantStatus.REJECTED)]
        )
    with pytest.raises(ValueError, match="twice"):
        bandit.choose(CONTEXT, "t1", [make_variant(0), make_variant(0)])


def test_a_page_is_chosen_and_logged_together(bandit: ArtworkBandit) -> None:
    titles = [(f"t{n}", [make_variant(i, f"t{n}") for i in range(3)]) for n in range(4)]

    made = bandit.choose_many(CONTEXT, titles)

    assert [d.title_id for d in made] == ["t0", "t1", "t2", "t3"]
    assert all(bandit.log.get(d.event_id) == d for d in made)
    assert all(d.context is made[0].context for d in made)
    with pytest.raises(ValueError, match="repeats"):
        bandit.choose_many(CONTEXT, titles[:1] * 2)
    assert bandit.choose_many(CONTEXT, []) == []


def test_reward_is_recorded_not_learned_and_counted_once(bandit: ArtworkBandit) -> None:
    woken: list[int] = []
    bandit.add_reward_listener(lambda: woken.append(1))
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)

    first = bandit.reward(decision.event_id, 1.0)
    second = bandit.reward(decision.event_id, 0.0)

    assert (first.recorded, first.value, first.model_version) == (True, 1.0, 0)
    assert (second.recorded, second.value) == (False, 1.0)  # the first reward stands
    assert bandit.model_version == 0  # learning is the learner's job
    assert bandit.log.reward_of(decision.event_id) == 1.0
    assert woken == [1]


def test_unknown_event_is_not_found(bandit: ArtworkBandit) -> None:
    with pytest.raises(EventNotFoundError, match="'missing'"):
        bandit.reward("missing", 1.0)


def test_a_late_reward_is_refused(engine: Engine, clock: Clock) -> None:
    bandit = make_bandit(engine, clock, reward_wait_s=60, **PLAIN)
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)
    clock.time += timedelta(seconds=61)
    with pytest.raises(RewardWindowClosedError, match="60 s"):
        bandit.reward(decision.event_id, 1.0)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "one"])
def test_reward_value_must_be_finite(bandit: ArtworkBandit, value: object) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)
    with pytest.raises(ValueError, match="value"):
        bandit.reward(decision.event_id, value)  # type: ignore[arg-type]
    assert bandit.log.reward_of(decision.event_id) is None


def test_reward_takes_a_value_or_an_event_not_both(bandit: ArtworkBandit) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)
    with pytest.raises(ValueError, match="exactly one"):
        bandit.reward(decision.event_id)
    with pytest.raises(ValueError, match="exactly one"):
        bandit.reward(decision.event_id, 1.0, event=RewardEvent("play"))


@pytest.mark.parametrize(
    ("definition", "event", "duration", "value"),
    [
        ("qualified_play", RewardEvent("watch", 150.0), 3600.0, 1.0),
        ("qualified_play", RewardEvent("watch", 30.0), 3600.0, 0.0),
        ("qualified_play", RewardEvent("watch", 30.0), 30.0, 1.0),  # a short title, watched
        ("qualified_play", RewardEvent("play"), None, 0.0),
        ("play", RewardEvent("play"), None, 1.0),
        ("watch_time", RewardEvent("watch", 900.0), 3600.0, 0.25),
    ],
)
def test_reward_events_are_valued_by_the_configured_definition(
    engine: Engine,
    clock: Clock,
    definition: str,
    event: RewardEvent,
    duration: float | None,
    value: float,
) -> None:
    settings = Settings(reward_definition=definition, qualified_play_s=120, **PLAIN)  # type: ignore[arg-type]
    bandit = ArtworkBandit(engine, settings, clock=clock, title_duration=lambda _title: duration)
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)

    outcome = bandit.reward(decision.event_id, event=event)

    assert outcome.value == pytest.approx(value)
    assert bandit.log.reward_of(decision.event_id) == pytest.approx(value)


def test_refresh_swaps_to_the_newest_snapshot(
    engine: Engine, clock: Clock, bandit: ArtworkBandit
) -> None:
    assert bandit.refresh() is False
    explored = next(
        d for d in (bandit.choose(CONTEXT, "t1", VARIANTS) for _ in range(200)) if d.chosen_index
    )
    serving = bandit.policy
    bandit.reward(explored.event_id, 1.0)

    Learner(engine, bandit.settings, clock=clock).catch_up()
    assert bandit.model_version == 0  # not before it looks
    assert bandit.refresh() is True

    assert bandit.policy is not serving and bandit.model_version == 1
    after = bandit.choose(CONTEXT, "t1", VARIANTS)
    assert after.model_version == 1
    assert after.probabilities[explored.chosen_index] == pytest.approx(0.85)
    assert bandit.refresh() is False


def test_a_new_bandit_resumes_from_the_latest_snapshot_at_the_configured_epsilon(
    engine: Engine, clock: Clock, bandit: ArtworkBandit, tmp_path: Path
) -> None:
    for _ in range(5):
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0 if decision.chosen_index == 3 else 0.0)
    learn_now(engine, bandit, clock)

    resumed = ArtworkBandit(engine, Settings(home=tmp_path, epsilon=0.4, **PLAIN))

    assert resumed.model_version == bandit.model_version == 5
    probabilities = resumed.choose(CONTEXT, "t1", VARIANTS).probabilities
    assert max(probabilities) == pytest.approx(0.7)
    assert resumed.policy.config()["epsilon"] == 0.4


def test_choose_reward_and_hot_swaps_from_threads(
    engine: Engine, clock: Clock, bandit: ArtworkBandit
) -> None:
    errors: list[BaseException] = []
    made: list[Decision] = []
    lock = threading.Lock()
    learner = Learner(engine, bandit.settings, clock=clock)

    def serve(worker: int) -> None:
        try:
            context = Context(f"u{worker}", "phone", hour=worker, weekday=worker % 7)
            for step in range(15):
                decision = bandit.choose(context, "t1", VARIANTS)
                bandit.reward(decision.event_id, float(step % 2))
                with lock:
                    made.append(decision)
        except BaseException as exc:
            errors.append(exc)

    def learn() -> None:
        try:
            for _ in range(20):
                learner.step()
                learner.flush()
                bandit.refresh()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=learn))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(made) == 60
    learner.catch_up()
    bandit.refresh()
    assert bandit.model_version == 60  # every rewarded decision learned exactly once
    versions = {d.model_version for d in made}
    assert versions <= set(range(61))


def test_decide_matches_the_policy_and_touches_no_database(bandit: ArtworkBandit) -> None:
    decision = bandit.decide(CONTEXT, "t1", VARIANTS)
    expected = bandit.policy.pmf(shared_features(CONTEXT), [action_features(v) for v in VARIANTS])
    assert decision.probabilities == pytest.approx(expected)
    with pytest.raises(EventNotFoundError):
        bandit.log.get(decision.event_id)

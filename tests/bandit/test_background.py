"""The serving process's bandit thread: it learns a reward promptly and hot-swaps, follows
snapshots another learner saves, and stops cleanly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import Engine

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.background import BanditWorker
from artwork.bandit.learner import Learner, LearnStep
from artwork.bandit.learner_lock import LearnerLock
from artwork.catalog.database import create_database_engine
from artwork.config import Settings
from artwork.domain import Context, Variant, VariantStatus
from artwork.testing.waiting import wait_for
from artwork.wiring import Services

CONTEXT = Context("u1", "tv", 20, 5)
VARIANTS = [
    Variant(f"v{i}", "t1", i, 0.0, 0.5, {"sharpness": 0.1 * i}, {}, "e", "p", 1, 1,
            VariantStatus.APPROVED)
    for i in range(3)
]  # fmt: skip


def _refreshing(bandit: ArtworkBandit) -> Callable[[int], None]:
    """A learner's ``on_snapshot`` that makes ``bandit`` serve the new snapshot."""

    def refresh(_version: int) -> None:
        bandit.refresh()

    return refresh


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, commit_grace_s=0.0, consistency_window_s=0.0)


def test_a_reward_is_learned_promptly_and_served(engine: Engine, settings: Settings) -> None:
    bandit = ArtworkBandit(engine, settings)
    learner = Learner(engine, settings, on_snapshot=_refreshing(bandit))
    worker = BanditWorker(bandit, learner, poll_s=0.0, learn_interval_s=30.0)
    worker.start()
    try:
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0)  # wakes the worker: no 30 s wait
        assert wait_for(lambda: bandit.model_version == 1)
    finally:
        worker.stop()


def test_rewards_waking_the_worker_do_not_each_cost_a_pass_or_a_lock_try(
    engine: Engine, settings: Settings
) -> None:
    class CountingLock(LearnerLock):
        tries = 0

        def try_acquire(self) -> bool:
            CountingLock.tries += 1
            return False  # another process learns

        def release(self) -> None:
            pass

        @property
        def held(self) -> bool:
            return False

    bandit = ArtworkBandit(engine, settings)
    worker = BanditWorker(
        bandit,
        None,
        poll_s=0.0,
        learn_interval_s=30.0,
        lock=CountingLock(),
        learner_factory=lambda: Learner(engine, settings),
    )
    worker.start()
    try:
        decisions = [bandit.choose(CONTEXT, "t1", VARIANTS) for _ in range(50)]
        assert wait_for(lambda: CountingLock.tries == 1)
        for decision in decisions:
            bandit.reward(decision.event_id, 1.0)  # each wakes the worker
        time.sleep(0.3)
        assert CountingLock.tries == 1  # next try after learn_interval_s
    finally:
        worker.stop()


def test_serving_follows_snapshots_saved_elsewhere(engine: Engine, settings: Settings) -> None:
    bandit = ArtworkBandit(engine, settings)
    worker = BanditWorker(bandit, None, poll_s=0.02, learn_interval_s=1.0)
    worker.start()
    try:
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0)
        Learner(engine, settings).catch_up()  # "another process"
        assert wait_for(lambda: bandit.model_version == 1)
    finally:
        worker.stop()


def test_stopping_saves_what_the_learner_has_not_saved(engine: Engine, settings: Settings) -> None:
    lazy = settings.model_copy(update={"snapshot_interval_s": 3600.0, "snapshot_every": 1000})
    bandit = ArtworkBandit(engine, lazy)
    learner = Learner(engine, lazy)
    worker = BanditWorker(bandit, learner, poll_s=0.0, learn_interval_s=0.01)
    for _ in range(2):
        bandit.reward(bandit.choose(CONTEXT, "t1", VARIANTS).event_id, 1.0)
    learner.step()  # saves the first snapshot at once (version 2) ...
    bandit.reward(bandit.choose(CONTEXT, "t1", VARIANTS).event_id, 1.0)
    worker.start()
    assert wait_for(lambda: learner.events_learned == 3)
    assert bandit.log.models.latest_version() == 2  # ... the next one waits for the interval
    worker.stop()
    assert bandit.log.models.latest_version() == 3


def test_bad_intervals_are_named(engine: Engine, settings: Settings) -> None:
    bandit = ArtworkBandit(engine, settings)
    with pytest.raises(ValueError, match="poll_s"):
        BanditWorker(bandit, None, poll_s=-1.0, learn_interval_s=1.0)
    with pytest.raises(ValueError, match="learn_interval_s"):
        BanditWorker(bandit, None, poll_s=1.0, learn_interval_s=0.0)


def test_services_run_the_bandit_thread_only_once_the_bandit_is_used(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", commit_grace_s=0.0, learner="background")
    services = Services.from_settings(settings)
    try:
        assert services._worker is None
        bandit = services.bandit
        assert services._worker is not None and services.learner is services.learner
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0)
        assert wait_for(lambda: bandit.model_version == 1)
    finally:
        services.close()
    assert services._worker is None


@pytest.mark.parametrize("learner", ["off", "process"])
def test_without_the_background_learner_services_only_follow_snapshots(
    tmp_path: Path, learner: Literal["off", "process"]
) -> None:
    services = Services.from_settings(Settings(home=tmp_path / "home", learner=learner))
    try:
        services.bandit.choose(CONTEXT, "t1", VARIANTS)
        assert services._worker is not None and services._worker.learner is None
    finally:
        services.close()


def test_a_snapshot_the_settings_cannot_continue_leaves_serving_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = Services.from_settings(Settings(home=home, commit_grace_s=0.0, learner="background"))
    try:
        bandit = first.bandit
        bandit.reward(bandit.choose(CONTEXT, "t1", VARIANTS).event_id, 1.0)
        assert wait_for(lambda: bandit.model_version == 1)
    finally:
        first.close()

    switched = Services.from_settings(
        Settings(home=home, exploration="softmax", learner="background")
    )
    try:
        bandit = switched.bandit  # the learner refuses (needs a rebuild); serving goes on
        assert switched._worker is not None and switched._worker.learner is None
        assert bandit.model_version == 1 and bandit.policy.name == "vw_epsilon_greedy"
        assert bandit.choose(CONTEXT, "t1", VARIANTS).model_version == 1
    finally:
        switched.close()


def test_an_unexpected_learner_error_restarts_the_learner_not_the_thread(
    engine: Engine, settings: Settings
) -> None:
    from artwork.bandit.learner_lock import AlwaysFree

    bandit = ArtworkBandit(engine, settings)
    built: list[Learner] = []

    def factory() -> Learner:
        learner = Learner(engine, settings, on_snapshot=_refreshing(bandit))
        if not built:  # the first learner hits a bug on its first pass

            def broken() -> LearnStep:
                raise RuntimeError("a bug, not a condition")

            learner.step = broken  # type: ignore[method-assign]
        built.append(learner)
        return learner

    worker = BanditWorker(
        bandit, None, poll_s=0.0, learn_interval_s=0.01, lock=AlwaysFree(), learner_factory=factory
    )
    worker.start()
    try:
        assert wait_for(lambda: worker.status().restarts == 1)
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0)
        assert wait_for(lambda: bandit.model_version == 1)
        status = worker.status()
        assert status.alive and status.learning and len(built) == 2
    finally:
        worker.stop()

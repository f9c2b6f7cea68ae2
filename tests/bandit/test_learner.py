"""The learner: every event learned exactly once, in time, across restarts and crashes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.learner import Learner
from artwork.bandit.log import DecisionLog, LearnerState
from artwork.bandit.vw_policy import VWPolicy
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import decisions
from artwork.config import Settings
from artwork.domain import Context, Decision, Variant, VariantStatus
from artwork.errors import ConflictError, ModelError
from artwork.testing.postgres import postgres_engine

NOW = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.time = start

    def __call__(self) -> datetime:
        return self.time


def make_variants(title_id: str, count: int = 4) -> list[Variant]:
    return [
        Variant(
            variant_id=f"{title_id}-v{i}",
            title_id=title_id,
            rank=i,
            frame_time_s=float(i),
            score=0.5,
            scores={"sharpness": 0.4 + 0.1 * i, "face_area": 0.1 * (i % 2)},
            tags={"face": 0.9} if i % 2 else {"landscape": 0.7},
            embedder="test",
            image_path=f"{title_id}/{i}.jpg",
            width=64,
            height=36,
            status=VariantStatus.APPROVED,
        )
        for i in range(count)
    ]


def settings_for(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "reward_wait_s": 60.0,
        "commit_grace_s": 0.0,
        "consistency_window_s": 0.0,
        "snapshot_interval_s": 0.0,
        "learn_batch": 7,
    }
    return Settings(**base | overrides)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


def serve(
    engine: Engine, settings: Settings, clock: Clock, count: int, *, reward_every: int = 3
) -> list[Decision]:
    """``count`` decisions a second apart; every ``reward_every``-th is rewarded at once."""
    bandit = ArtworkBandit(engine, settings, rng=np.random.default_rng(count), clock=clock)
    made = []
    for n in range(count):
        clock.time += timedelta(seconds=1)
        decision = bandit.choose(Context(f"u{n % 5}", "tv", 20, 5), "t1", make_variants("t1"))
        if n % reward_every == 0:
            bandit.reward(decision.event_id, 1.0)
        made.append(decision)
    return made


def test_rewards_are_learned_at_once_the_rest_when_their_window_closes(engine: Engine) -> None:
    settings, clock = settings_for(), Clock()
    made = serve(engine, settings, clock, 12)
    learner = Learner(engine, settings, clock=clock)

    first = learner.step()

    assert (first.learned, first.rewarded, first.defaulted) == (4, 4, 0)
    assert first.cursor == 1 and first.saved  # decision 1 was rewarded; 2 still waits
    assert learner.events_learned == 4

    clock.time += timedelta(seconds=settings.reward_wait_s)
    steps = []
    while (step := learner.step()).learned:
        steps.append(step)
    assert sum(s.defaulted for s in steps) == 8 and sum(s.rewarded for s in steps) == 0
    assert learner.state == LearnerState(len(made), frozenset())
    assert learner.version == learner.events_learned == 12


def test_nothing_is_learned_twice_across_restarts(engine: Engine) -> None:
    settings, clock = settings_for(), Clock()
    serve(engine, settings, clock, 20)
    learner = Learner(engine, settings, clock=clock)
    learner.step()  # the early rewards, ahead of the cursor
    assert learner.state.ahead

    for _ in range(3):  # restart after every pass
        clock.time += timedelta(seconds=30)
        learner = Learner(engine, settings, clock=clock)
        learner.catch_up()
    clock.time += timedelta(seconds=120)
    Learner(engine, settings, clock=clock).catch_up()

    final = Learner(engine, settings, clock=clock)
    assert final.events_learned == final.version == 20
    assert final.state == LearnerState(20, frozenset())
    assert final.catch_up() == 0


def test_a_decision_committed_late_below_the_newest_is_not_passed_over(
    engine: Engine, tmp_path: Path
) -> None:
    settings, clock = settings_for(commit_grace_s=5.0, learn_batch=100), Clock()
    made = serve(engine, settings, clock, 6, reward_every=100)
    rows = DecisionLog(engine).events_after(0, 10)
    learner = Learner(engine, settings, clock=clock)
    clock.time += timedelta(seconds=200)
    learner.step()
    assert learner.state.cursor == 0  # first seen now: might sit above one still committing
    clock.time += timedelta(seconds=11)  # 2 g after first sight
    learner.step()
    assert learner.state.cursor == rows[-1].seq

    # Decision 9 commits while 8 ... is still in flight: seq 8 shows up after 9 was read.
    late = made[0]
    young = clock.time - timedelta(seconds=1)
    with engine.begin() as conn:
        conn.execute(insert(decisions).values(**_row(late, "ninth", young, seq=9)))
    learner.step()
    assert learner.state.cursor == rows[-1].seq  # 9 is too young to pass
    with engine.begin() as conn:
        conn.execute(insert(decisions).values(**_row(late, "eighth", young, seq=8)))
    clock.time += timedelta(seconds=200)
    learner.catch_up()
    clock.time += timedelta(seconds=11)
    learner.catch_up()

    assert learner.events_learned == 8
    assert learner.state == LearnerState(9, frozenset())


def test_a_pass_reads_again_only_the_gaps_between_the_decisions_it_saw(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, clock = settings_for(commit_grace_s=5.0, learn_batch=100), Clock()
    made = serve(engine, settings, clock, 6, reward_every=100)
    read: list[list[tuple[int, int]]] = []
    within = DecisionLog.seqs_within

    def spy(log: DecisionLog, ranges: list[tuple[int, int]]) -> list[int]:
        read.append(list(ranges))
        return within(log, ranges)

    monkeypatch.setattr(DecisionLog, "seqs_within", spy)
    learner = Learner(engine, settings, clock=clock)
    learner.step()
    learner.step()
    assert read == []  # an unbroken log: nothing to look for below the newest decision
    with engine.begin() as conn:
        conn.execute(insert(decisions).values(**_row(made[0], "tenth", clock.time, seq=10)))
    learner.step()
    assert read[-1] == [(6, 9)]
    clock.time += timedelta(seconds=11)  # 7 to 9 never committed: the gap closes after 2 g
    learner.step()
    learner.step()
    count = len(read)
    learner.step()
    assert len(read) == count


def test_a_rebuild_relearns_the_log_and_publishes_only_when_caught_up(engine: Engine) -> None:
    settings, clock = settings_for(), Clock()
    serve(engine, settings, clock, 10)
    clock.time += timedelta(seconds=120)
    Learner(engine, settings, clock=clock).catch_up()
    log = DecisionLog(engine)
    assert log.models.latest_version() == 10

    softmax = settings_for(exploration="softmax")
    with pytest.raises(ModelError, match="rebuild"):
        Learner(engine, softmax, clock=clock)
    rebuilt = Learner(engine, softmax, clock=clock, rebuild=True)
    first = rebuilt.step()
    assert 0 < first.learned < 10 and not first.saved  # catching up: nothing published yet
    assert log.models.latest_version() == 10
    rebuilt.catch_up()

    checkpoint = log.models.latest_checkpoint()
    assert checkpoint is not None and checkpoint.version == 20  # versions keep counting up
    assert checkpoint.events_learned == 10
    assert Learner(engine, softmax, clock=clock).policy.name == "vw_softmax"


def test_a_second_learner_on_the_same_database_is_refused(engine: Engine) -> None:
    settings, clock = settings_for(), Clock()
    serve(engine, settings, clock, 6)
    one = Learner(engine, settings, clock=clock)
    two = Learner(engine, settings, clock=clock)
    one.step()
    with pytest.raises(ConflictError, match="single learner"):
        two.step()


def test_snapshots_of_older_artwork_are_adopted_without_relearning_their_rewards(
    engine: Engine,
) -> None:
    settings, clock = settings_for(), Clock()
    made = serve(engine, settings, clock, 9)
    # Older artwork learned every reward synchronously and saved no learner state.
    policy = Learner(engine, settings, clock=clock).policy
    rewarded = [d for d in made if DecisionLog(engine).reward_of(d.event_id) is not None]
    policy.learn_many((d, 1.0) for d in rewarded)
    DecisionLog(engine).models.save_snapshot(
        policy.version, policy.config(), policy.version, policy.snapshot()
    )

    clock.time += timedelta(seconds=120)
    learner = Learner(engine, settings, clock=clock)
    learned = learner.catch_up()

    assert learned == 9 - len(rewarded)
    assert learner.events_learned == 9


def test_run_learns_until_stopped_and_saves_what_is_left(engine: Engine) -> None:
    import threading

    settings, clock = settings_for(snapshot_interval_s=3600.0), Clock()
    serve(engine, settings, clock, 9)
    clock.time += timedelta(seconds=120)
    learner = Learner(engine, settings, clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=learner.run, args=(stop,), kwargs={"interval_s": 0.01})
    thread.start()
    deadline = time.monotonic() + 10
    while learner.events_learned < 9 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(10)

    checkpoint = DecisionLog(engine).models.latest_checkpoint()
    assert checkpoint is not None and checkpoint.events_learned == 9


@pytest.mark.slow
def test_a_learner_killed_with_sigkill_resumes_exactly(tmp_path: Path) -> None:
    """kill -9 mid-run, more traffic while it is down, restart: the model equals one learned
    in a single uninterrupted run over the same log."""
    home, reference = tmp_path / "home", tmp_path / "reference"
    home.mkdir()
    reference.mkdir()
    url = f"sqlite:///{home / 'artwork.db'}"
    long_ago = Clock(datetime.now(UTC) - timedelta(days=2))
    settings = settings_for(learn_batch=10, snapshot_every=10, reward_wait_s=600.0)
    engine = create_database_engine(url)
    serve(engine, settings, long_ago, 2500)
    engine.dispose()  # checkpoints the WAL: the file alone holds the log
    shutil.copy(home / "artwork.db", reference / "artwork.db")

    env = os.environ | {
        "ARTWORK_HOME": str(home),
        "ARTWORK_LEARN_BATCH": "10",
        "ARTWORK_SNAPSHOT_EVERY": "10",
        "ARTWORK_SNAPSHOT_INTERVAL_S": "0",
        "ARTWORK_COMMIT_GRACE_S": "0",
        "ARTWORK_CONSISTENCY_WINDOW_S": "0",
    }
    command = [sys.executable, "-m", "artwork.cli.main", "learn", "--interval", "0.05"]
    output = (tmp_path / "learner.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    log = DecisionLog(create_database_engine(url))
    try:
        deadline = time.monotonic() + 120
        learned_at_kill = 0
        while time.monotonic() < deadline:
            checkpoint = log.models.latest_checkpoint()
            if checkpoint is not None and checkpoint.events_learned >= 300:
                learned_at_kill = checkpoint.events_learned
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        output.close()
    assert process.returncode == -signal.SIGKILL, (tmp_path / "learner.log").read_text()
    assert 0 < learned_at_kill < 2500, "the learner must be killed part-way"

    # Traffic goes on while the learner is down, in both copies of the log.
    scratch = create_database_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    more = serve(scratch, settings, long_ago, 200)
    scratch.dispose()
    for folder in (home, reference):
        other = DecisionLog(create_database_engine(f"sqlite:///{folder / 'artwork.db'}"))
        other.import_events([(d, None) for d in more])
        other.engine.dispose()

    resumed = subprocess.run(
        [*command[:-2], "--once"], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    checkpoint = log.models.latest_checkpoint()
    assert checkpoint is not None
    assert checkpoint.events_learned == 2700
    assert checkpoint.state == LearnerState(2700, frozenset())

    reference_engine = create_database_engine(f"sqlite:///{reference / 'artwork.db'}")
    straight = Learner(reference_engine, settings_for(learn_batch=1000, reward_wait_s=600.0))
    straight.catch_up()
    resumed_engine = create_database_engine(url)
    after_crash = Learner(resumed_engine, settings)
    assert isinstance(after_crash.policy, VWPolicy) and isinstance(straight.policy, VWPolicy)
    assert after_crash.policy.weights() == straight.policy.weights()
    for item in (reference_engine, resumed_engine, log.engine):
        item.dispose()


def _row(decision: Decision, event_id: str, created_at: datetime, *, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": event_id,
        "created_at": created_at,
        "user_id": decision.user_id,
        "title_id": decision.title_id,
        "context": decision.context,
        "action_ids": list(decision.action_ids),
        "action_features": list(decision.action_features),
        "probabilities": list(decision.probabilities),
        "chosen_index": decision.chosen_index,
        "model_version": 0,
        "policy": dict(decision.policy),
    }


@pytest.mark.postgres
def test_the_log_and_the_learner_on_postgresql() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from artwork.catalog.schema import metadata

    engine = postgres_engine(fresh_schema=True)
    try:
        settings, clock = settings_for(), Clock()
        made = serve(engine, settings, clock, 12)
        log = DecisionLog(engine)
        assert [e.decision for e in log.events_after(0, 20)] == made
        with pytest.raises(SQLAlchemyError, match="append-only"), engine.begin() as conn:
            conn.execute(decisions.update().values(chosen_index=0))
        clock.time += timedelta(seconds=120)
        learner = Learner(engine, settings, clock=clock)
        assert learner.catch_up() == 12
        assert Learner(engine, settings, clock=clock).catch_up() == 0
        checkpoint = log.models.latest_checkpoint()
        assert checkpoint is not None and checkpoint.events_learned == 12
    finally:
        metadata.drop_all(engine)
        engine.dispose()

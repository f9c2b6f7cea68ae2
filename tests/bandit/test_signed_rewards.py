"""Rewards against signed event ids: checked from the id alone, accepted before the decision
is written, joined by the learner once it is, and bound to the principal that asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.event_ids import EventIdSigner
from artwork.bandit.learner import Learner
from artwork.bandit.writer import DecisionWriter, RewardWriter
from artwork.catalog.database import create_database_engine
from artwork.config import Settings
from artwork.errors import EventNotFoundError, RewardWindowClosedError

from .test_artwork_bandit import CONTEXT, PLAIN, VARIANTS, Clock

SECRET = b"s" * 32


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


def make_bandit(engine: Engine, clock: Clock, **kwargs: Any) -> ArtworkBandit:
    settings = Settings(**{"epsilon": 0.2, "commit_grace_s": 0.0} | PLAIN)
    return ArtworkBandit(
        engine,
        settings,
        rng=np.random.default_rng(7),
        clock=clock,
        signer=EventIdSigner(SECRET),
        **kwargs,
    )


def test_a_reward_before_its_decision_is_written_is_accepted_and_learned_once(
    engine: Engine,
) -> None:
    clock = Clock()
    bandit = make_bandit(engine, clock)
    # Decide without logging (as if the writer had not flushed yet), reward, then log.
    decision = bandit.decide(CONTEXT, "t1", VARIANTS)
    signed = EventIdSigner(SECRET).issue("u1", "t1", issued_at=clock.time)
    decision = type(decision)(**{**_fields(decision), "event_id": signed})
    outcome = bandit.reward(signed, 1.0)
    assert outcome.recorded and outcome.value == 1.0
    assert bandit.reward(signed, 0.0).recorded is False  # the first reward stands
    bandit.log.append(decision)
    learner = Learner(engine, bandit.settings, clock=clock)
    assert learner.catch_up() == 1
    assert learner.catch_up() == 0
    assert bandit.log.get(signed).event_id == signed
    assert bandit.log.reward_of(signed) == 1.0


def test_a_forged_or_altered_id_is_refused_without_reading_the_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bandit = make_bandit(engine, Clock())
    genuine = bandit.choose(CONTEXT, "t1", VARIANTS).event_id
    forged = EventIdSigner(b"x" * 32).issue("u1", "t1", issued_at=Clock().time)
    altered = genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB")

    def no_database(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the database was read")

    monkeypatch.setattr(engine, "connect", no_database)
    monkeypatch.setattr(engine, "begin", no_database)
    for event_id in (forged, altered, "e1.garbage.tag"):
        with pytest.raises(EventNotFoundError):
            bandit.reward(event_id, 1.0)


def test_an_id_issued_to_another_principal_is_unknown(engine: Engine) -> None:
    bandit = make_bandit(engine, Clock())
    event_id = bandit.choose(CONTEXT, "t1", VARIANTS, principal="key-1").event_id
    with pytest.raises(EventNotFoundError):
        bandit.reward(event_id, 1.0, principal="key-2")
    assert bandit.reward(event_id, 1.0, principal="key-1").recorded
    anyone = bandit.choose(CONTEXT, "t1", VARIANTS).event_id  # issued to nobody in particular
    assert bandit.reward(anyone, 1.0, principal="key-2").recorded


def test_a_late_signed_reward_is_refused_from_its_claims(engine: Engine) -> None:
    clock = Clock()
    bandit = make_bandit(engine, clock)
    event_id = bandit.choose(CONTEXT, "t1", VARIANTS).event_id
    clock.time += timedelta(seconds=bandit.settings.reward_wait_s + 5)
    with pytest.raises(RewardWindowClosedError):
        bandit.reward(event_id, 1.0)


def test_pages_and_rewards_through_the_group_commit_writers(engine: Engine) -> None:
    clock = Clock()
    probe = make_bandit(engine, clock)
    writer = DecisionWriter(engine, probe.log, capacity=1000, flush_s=0.01).start()
    rewards = RewardWriter(engine, probe.log)
    bandit = make_bandit(engine, clock, writer=writer, reward_writer=rewards)
    made = [bandit.choose(CONTEXT, "t1", VARIANTS) for _ in range(20)]
    assert all(bandit.reward(d.event_id, 1.0).recorded for d in made)  # decisions may lag
    assert writer.flush(timeout=10)
    assert bandit.log.count() == 20
    assert all(bandit.log.get(d.event_id).chosen_index == d.chosen_index for d in made)
    writer.close()
    rewards.close()
    status = writer.status()
    assert status.queued == 0 and status.committed == 20 and not status.alive


def _fields(decision: Any) -> dict[str, Any]:
    return {name: getattr(decision, name) for name in decision.__slots__}

"""DecisionLog: decisions round-trip exactly, rewards count once, newest snapshot comes back."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from artwork.bandit.log import DecisionLog
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import bandit_models
from artwork.domain import Decision
from artwork.errors import ConflictError, EventNotFoundError

WHEN = datetime(2026, 3, 14, 20, 15, 9, 123456, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


@pytest.fixture
def log(engine: Engine) -> DecisionLog:
    return DecisionLog(engine, clock=lambda: WHEN)


def make_decision(event_id: str = "e1", **changes: Any) -> Decision:
    decision = Decision(
        event_id=event_id,
        created_at=WHEN,
        user_id="u1",
        title_id="t1",
        context={
            "member": {"id=u1": 1.0},
            "context": {"device=tv": 1.0, "hour=20": 1.0, "daypart=evening": 1.0},
        },
        action_ids=("v0", "v1", "v2"),
        action_features=(
            {"variant": {"id=v0": 1.0, "rank=0": 1.0}, "quality": {"sharpness": 0.1 + 0.2}},
            {"variant": {"id=v1": 1.0, "rank=1": 1.0}, "tags": {"red car": 0.3333333333333333}},
            {"variant": {"id=v2": 1.0, "rank=2": 1.0}},
        ),
        probabilities=(0.06666666666666667, 0.8666666666666667, 0.06666666666666667),
        chosen_index=1,
        model_version=4,
        policy={"name": "vw_epsilon_greedy", "epsilon": 0.2, "bits": 18},
    )
    return replace(decision, **changes)


def test_decision_round_trips_exactly(log: DecisionLog) -> None:
    decision = make_decision()
    log.append(decision)

    assert log.get("e1") == decision


def test_decision_persists_for_a_new_engine(tmp_path: Path, log: DecisionLog) -> None:
    decision = make_decision(created_at=WHEN.astimezone(timezone(timedelta(hours=-5))))
    log.append(decision)

    other_engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    stored = DecisionLog(other_engine).get("e1")
    other_engine.dispose()

    assert stored == decision
    assert stored.created_at.tzinfo == UTC


def test_unknown_event_says_where_event_ids_come_from(log: DecisionLog) -> None:
    with pytest.raises(EventNotFoundError, match=r"'nope'.*event ids come from artwork responses"):
        log.get("nope")


def test_decisions_are_append_only(log: DecisionLog) -> None:
    log.append(make_decision())
    with pytest.raises(ConflictError, match="append-only"):
        log.append(make_decision(chosen_index=0))
    assert log.get("e1").chosen_index == 1


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"probabilities": (0.5, 0.5)}, "same length"),
        ({"chosen_index": 3}, "chosen_index"),
        ({"probabilities": (0.5, 0.0, 0.5)}, "probability"),
        ({"action_ids": (), "action_features": (), "probabilities": ()}, "action_ids"),
        ({"created_at": datetime(2026, 1, 1)}, "created_at"),
    ],
)
def test_inconsistent_decision_is_rejected(
    log: DecisionLog, changes: dict[str, Any], bad: str
) -> None:
    with pytest.raises(ValueError, match=bad):
        log.append(make_decision(**changes))


def test_same_reward_twice_counts_once(log: DecisionLog) -> None:
    log.append(make_decision())

    assert log.record_reward("e1", 1.0, WHEN) is True
    assert log.record_reward("e1", 1.0, WHEN) is False
    assert log.record_reward("e1", 0.0, WHEN + timedelta(seconds=1)) is False

    reward = log.get_reward("e1")
    assert reward is not None
    assert (reward.value, reward.received_at) == (1.0, WHEN)
    assert log.reward_of("e1") == 1.0


def test_reward_of_an_unknown_event_is_not_found(log: DecisionLog) -> None:
    with pytest.raises(EventNotFoundError, match="'ghost'"):
        log.record_reward("ghost", 1.0, WHEN)
    assert log.reward_of("ghost") is None


@pytest.mark.parametrize(
    ("value", "received_at", "bad"),
    [
        (math.nan, WHEN, "value"),
        (math.inf, WHEN, "value"),
        (1.0, datetime(2026, 1, 1), "received_at"),
    ],
)
def test_bad_reward_arguments_are_named(
    log: DecisionLog, value: float, received_at: datetime, bad: str
) -> None:
    log.append(make_decision())
    with pytest.raises(ValueError, match=bad):
        log.record_reward("e1", value, received_at)
    assert log.reward_of("e1") is None


def test_latest_snapshot_is_the_highest_version(log: DecisionLog) -> None:
    assert log.latest_snapshot() is None

    log.save_snapshot(1, {"name": "p"}, 1, b"one")
    log.save_snapshot(2, {"name": "p"}, 2, b"two\x00")

    assert log.latest_snapshot() == (2, b"two\x00")


def test_a_snapshot_version_is_saved_once(log: DecisionLog) -> None:
    log.save_snapshot(1, {"name": "p"}, 1, b"one")
    with pytest.raises(ConflictError, match="version 1"):
        log.save_snapshot(1, {"name": "p"}, 1, b"other")
    assert log.latest_snapshot() == (1, b"one")


def test_negative_snapshot_version_is_rejected(log: DecisionLog) -> None:
    with pytest.raises(ValueError, match="version"):
        log.save_snapshot(-1, {}, 0, b"")


def test_saving_with_keep_drops_older_snapshots(log: DecisionLog, engine: Engine) -> None:
    for version in range(1, 6):
        log.save_snapshot(version, {"name": "p"}, version, f"v{version}".encode(), keep=2)

    with engine.connect() as conn:
        versions = conn.scalars(select(bandit_models.c.version).order_by("version")).all()
    assert versions == [4, 5]
    assert log.latest_snapshot() == (5, b"v5")
    with pytest.raises(ValueError, match="keep"):
        log.save_snapshot(6, {}, 6, b"", keep=0)

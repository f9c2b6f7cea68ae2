"""DecisionLog: decisions round-trip exactly and stay as written, rewards count once and only
within their window, the log reads back in order, snapshots carry the learner state."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from artwork.bandit.event_ids import EventIdSigner
from artwork.bandit.log import DecisionLog, LearnerState, event_key
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import bandit_learner_state, bandit_models, decisions
from artwork.domain import Decision, Reward
from artwork.errors import (
    ConflictError,
    EventNotFoundError,
    RewardWindowClosedError,
)

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
    assert log.models.latest_snapshot() is None

    log.models.save_snapshot(1, {"name": "p"}, 1, b"one")
    log.models.save_snapshot(2, {"name": "p"}, 2, b"two\x00")

    assert log.models.latest_snapshot() == (2, b"two\x00")


def test_a_snapshot_version_is_saved_once(log: DecisionLog) -> None:
    log.models.save_snapshot(1, {"name": "p"}, 1, b"one")
    with pytest.raises(ConflictError, match="version 1"):
        log.models.save_snapshot(1, {"name": "p"}, 1, b"other")
    assert log.models.latest_snapshot() == (1, b"one")


def test_negative_snapshot_version_is_rejected(log: DecisionLog) -> None:
    with pytest.raises(ValueError, match="version"):
        log.models.save_snapshot(-1, {}, 0, b"")


def test_saving_with_keep_drops_older_snapshots(log: DecisionLog, engine: Engine) -> None:
    for version in range(1, 6):
        log.models.save_snapshot(version, {"name": "p"}, version, f"v{version}".encode(), keep=2)

    with engine.connect() as conn:
        versions = conn.scalars(select(bandit_models.c.version).order_by("version")).all()
    assert versions == [4, 5]
    assert log.models.latest_snapshot() == (5, b"v5")
    with pytest.raises(ValueError, match="keep"):
        log.models.save_snapshot(6, {}, 6, b"", keep=0)


def test_a_page_of_decisions_is_logged_all_or_nothing(log: DecisionLog) -> None:
    log.append(make_decision("e2"))
    with pytest.raises(ConflictError, match="append-only"):
        log.append_many([make_decision("e1"), make_decision("e2")])
    with pytest.raises(EventNotFoundError):
        log.get("e1")

    log.append_many([make_decision("e1"), make_decision("e3")])
    assert [event.decision.event_id for event in log.events_after(0, 10)] == ["e2", "e1", "e3"]


def test_the_database_refuses_to_edit_a_logged_decision_or_reward(
    log: DecisionLog, engine: Engine
) -> None:
    log.append(make_decision())
    log.record_reward("e1", 1.0, WHEN)
    for statement in (
        update(decisions).where(decisions.c.event_id == "e1").values(chosen_index=0),
        text("UPDATE rewards SET value = 0 WHERE event_id = 'e1'"),
    ):
        with pytest.raises(SQLAlchemyError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    assert log.get("e1").chosen_index == 1
    assert log.reward_of("e1") == 1.0


def test_probabilities_must_be_a_distribution(log: DecisionLog) -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        log.append(make_decision(probabilities=(0.1, 0.5, 0.1)))


def test_a_reward_after_its_window_is_refused_and_a_repeat_is_idempotent(
    log: DecisionLog,
) -> None:
    log.append(make_decision("e1"))
    log.append(make_decision("e2"))

    assert log.record_reward("e1", 1.0, WHEN + timedelta(seconds=60), wait_s=60) is True
    with pytest.raises(RewardWindowClosedError, match=r"'e2'.*61 s.*60 s"):
        log.record_reward("e2", 1.0, WHEN + timedelta(seconds=61), wait_s=60)
    assert log.reward_of("e2") is None
    # The first reward stands, whenever the repeat comes.
    assert log.record_reward("e1", 0.0, WHEN + timedelta(hours=1), wait_s=60) is False
    with pytest.raises(ValueError, match="wait_s"):
        log.record_reward("e2", 1.0, WHEN, wait_s=-1)


def test_last_shown_is_the_newest_decision_per_title_within_the_window(
    log: DecisionLog,
) -> None:
    old = WHEN - timedelta(days=2)
    log.append(make_decision("a", created_at=old, chosen_index=0))
    log.append(make_decision("b", chosen_index=2, probabilities=(0.1, 0.1, 0.8)))
    log.append(make_decision("c", chosen_index=1))
    log.append(make_decision("d", title_id="t2", created_at=old, chosen_index=0))
    log.append(make_decision("e", user_id="u2", chosen_index=0))

    shown = log.last_shown("u1", ["t1", "t2", "t3"], since=WHEN - timedelta(days=1))

    assert shown == {"t1": "v1"}
    assert log.last_shown("u1", ["t2"], since=old) == {"t2": "v0"}
    assert log.last_shown("u1", [], since=old) == {}


def test_impressions_count_decisions_per_title(log: DecisionLog) -> None:
    for n in range(3):
        log.append(make_decision(f"a{n}"))
    log.append(make_decision("b", title_id="t2"))

    assert log.impressions(["t1", "t2", "new"]) == {"t1": 3, "t2": 1, "new": 0}
    assert log.count() == 4


def test_events_read_back_in_log_order_with_their_rewards(log: DecisionLog) -> None:
    for n in range(5):
        log.append(make_decision(f"e{n}"))
    log.record_reward("e3", 0.5, WHEN + timedelta(seconds=5))

    events = log.events_after(0, 10)

    assert [event.seq for event in events] == sorted(event.seq for event in events)
    assert [event.decision for event in events] == [log.get(f"e{n}") for n in range(5)]
    rewarded = {event.decision.event_id: event.reward for event in events}
    assert rewarded["e3"] == Reward("e3", 0.5, WHEN + timedelta(seconds=5))
    assert rewarded["e0"] is None
    assert [e.decision.event_id for e in log.events_after(events[1].seq, 2)] == ["e2", "e3"]
    assert [e.decision.event_id for e in log.events_at([events[4].seq, events[0].seq])] == [
        "e0",
        "e4",
    ]
    assert [e.decision.event_id for e in log.iter_events(chunk=2)] == [f"e{n}" for n in range(5)]
    seqs = [event.seq for event in events]
    assert log.seqs_within([(seqs[0], seqs[2])]) == seqs[1:3]
    assert log.seqs_within([(seqs[3], seqs[4]), (seqs[0] - 1, seqs[0])]) == [seqs[0], seqs[4]]
    assert log.seqs_within([]) == []
    assert log.rewards_since(0, WHEN, 10) == [(events[3].seq, WHEN + timedelta(seconds=5))]
    assert log.rewards_since(0, WHEN + timedelta(seconds=6), 10) == []
    assert log.rewarded_seqs() == {events[3].seq}
    stubs = log.stubs_after(0, 10)
    assert [(s.seq, s.created_at, s.rewarded) for s in stubs] == [
        (e.seq, e.decision.created_at, e.reward is not None) for e in events
    ]
    assert log.stubs_after(events[1].seq, 2) == stubs[2:4]
    assert log.stubs_at([events[4].seq, events[0].seq]) == [stubs[0], stubs[4]]


def test_a_titles_logged_features_decode_once_into_shared_objects(log: DecisionLog) -> None:
    log.append_many([make_decision("e1"), make_decision("e2")])
    first, second = log.events_after(0, 10)
    assert first.decision.action_features is second.decision.action_features


def test_import_adds_new_decisions_with_their_rewards_and_skips_known_ones(
    log: DecisionLog,
) -> None:
    log.append(make_decision("known"))
    items = [
        (make_decision("known", chosen_index=0), None),
        (make_decision("new1"), Reward("new1", 1.0, WHEN)),
        (make_decision("new2"), None),
    ]

    counts = log.import_events(items)

    assert (counts.decisions, counts.rewards) == (2, 1)
    assert log.get("known").chosen_index == 1
    assert log.reward_of("new1") == 1.0
    assert log.import_events(items).decisions == 0
    with pytest.raises(ValueError, match="other"):
        log.import_events([(make_decision("x"), Reward("other", 1.0, WHEN))])


def test_a_checkpoint_is_the_newest_snapshot_with_its_learner_state(log: DecisionLog) -> None:
    assert log.models.latest_checkpoint() is None and log.models.latest_version() is None
    log.models.save_snapshot(
        3, {"name": "p"}, 3, b"three", state=LearnerState(7, frozenset({9, 12}))
    )
    log.models.save_snapshot(4, {"name": "p"}, 4, b"four")

    checkpoint = log.models.latest_checkpoint()

    assert checkpoint is not None
    assert (checkpoint.version, checkpoint.data, checkpoint.state) == (4, b"four", None)
    assert log.models.latest_version() == 4
    log.models.save_snapshot(5, {"name": "p"}, 5, b"five", state=LearnerState(11, frozenset({12})))
    checkpoint = log.models.latest_checkpoint()
    assert checkpoint is not None
    assert checkpoint.state == LearnerState(11, frozenset({12}))
    assert checkpoint.events_learned == 5


def test_dropping_old_snapshots_drops_their_learner_state(log: DecisionLog, engine: Engine) -> None:
    for version in range(1, 5):
        log.models.save_snapshot(version, {}, version, b"x", keep=2, state=LearnerState(version))
    with engine.connect() as conn:
        kept = conn.scalars(select(bandit_learner_state.c.version).order_by("version")).all()
    assert kept == [3, 4]


@pytest.mark.parametrize(
    "key",
    [None, "0123456789abcdef0123456789abcdef", "short", 'quote"and\\slash', "ünïcode", "A" * 32],
)
def test_event_key_is_the_signed_key_however_it_is_spelled(key: str | None) -> None:
    signer = EventIdSigner(b"0123456789abcdef-secret")
    event_id = signer.issue(
        "member", "title", issued_at=datetime(2026, 1, 1, tzinfo=UTC), principal="k1", key=key
    )
    assert event_key(event_id) == signer.verify(event_id).key


@pytest.mark.parametrize("event_id", ["plain-uuid-hex", "e1.not-base64!.tag", "e1.only-two"])
def test_an_unsigned_or_malformed_id_is_its_own_key(event_id: str) -> None:
    assert event_key(event_id) == event_id

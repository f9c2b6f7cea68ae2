"""Per-title and per-variant decision counts: kept exact in the transaction that logs the
decisions, on SQLite and PostgreSQL, and counted once from the log of a database written
before they existed (whose index on ``decisions.title_id`` is then dropped)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, inspect, text

from artwork.bandit.log import DecisionLog
from artwork.catalog.schema import decision_counts
from artwork.domain import Decision, Reward
from artwork.errors import ConflictError
from artwork.testing.waiting import run_together

WHEN = datetime(2026, 3, 14, 20, 15, tzinfo=UTC)
CONFIG: dict[str, str | float] = {
    "name": "vw_epsilon_greedy",
    "epsilon": 0.2,
    "extra_exploration": 0.0,
}


@pytest.fixture
def engine(any_engine: Engine) -> Engine:
    """Each supported database."""
    return any_engine


def decision(event_id: str, title_id: str, chosen: int, user_id: str = "u1") -> Decision:
    ids = tuple(f"{title_id}-v{i}" for i in range(3))
    return Decision(
        event_id=event_id,
        created_at=WHEN,
        user_id=user_id,
        title_id=title_id,
        context={"member": {f"id={user_id}": 1.0}},
        action_ids=ids,
        action_features=tuple({"variant": {f"id={v}": 1.0}} for v in ids),
        probabilities=(0.8, 0.1, 0.1),
        chosen_index=chosen,
        model_version=1,
        policy=CONFIG | {"sticky_variant": ""},
    )


def page(prefix: str, user_id: str = "u1") -> list[Decision]:
    """Eight decisions over three titles, a title's variants chosen unevenly."""
    picks = [("a", 0), ("a", 0), ("a", 1), ("b", 2), ("b", 2), ("c", 0), ("a", 0), ("b", 1)]
    return [decision(f"{prefix}{i}", t, c, user_id) for i, (t, c) in enumerate(picks)]


def test_counts_follow_every_write_exactly(engine: Engine) -> None:
    log = DecisionLog(engine)
    log.append_many(page("p"))
    with engine.begin() as conn:  # a batch of two pages, as the group-commit writer writes
        log.write(conn, page("q", "u2") + page("r", "u3"))
    log.import_events([(decision("imp", "d", 1), Reward("imp", 1.0, WHEN))])

    assert log.impressions(["a", "b", "c", "d", "new"]) == {
        "a": 12,
        "b": 9,
        "c": 3,
        "d": 1,
        "new": 0,
    }
    assert log.counts.shown("a") == {"a-v0": 9, "a-v1": 3}
    assert log.counts.shown("b") == {"b-v1": 3, "b-v2": 6}
    assert log.counts.shown("unknown") == {}
    # An import repeated adds nothing; a page that fails to log counts nothing.
    log.import_events([(decision("imp", "d", 1), None)])
    with pytest.raises(ConflictError):
        log.append_many([decision("new-one", "a", 2), decision("p0", "a", 2)])
    assert log.impressions(["a", "d"]) == {"a": 12, "d": 1}
    assert log.counts.shown("a") == {"a-v0": 9, "a-v1": 3}


def test_takes_are_positive_rewards_per_chosen_variant(engine: Engine) -> None:
    log = DecisionLog(engine)
    log.append_many(page("p"))
    for event_id, value in (("p0", 1.0), ("p1", 0.0), ("p2", 2.0), ("p3", 1.0), ("p6", 0.5)):
        log.record_reward(event_id, value, received_at=WHEN)

    assert log.takes("a") == {"a-v0": 2, "a-v1": 1}
    assert log.takes("b") == {"b-v2": 1}
    assert log.takes("c") == {}


def test_a_log_written_before_the_counts_is_counted_once(engine: Engine) -> None:
    log = DecisionLog(engine)
    log.append_many(page("p") + page("q", "u2"))
    with engine.begin() as conn:  # the shape of a database from before the counts
        conn.execute(delete(decision_counts))
        conn.execute(text("CREATE INDEX ix_decisions_title ON decisions (title_id)"))

    opened = [DecisionLog(engine) for _ in range(2)]  # the second finds the counts in place

    assert opened[1].impressions(["a", "b", "c"]) == {"a": 8, "b": 6, "c": 2}
    assert opened[0].counts.shown("a") == {"a-v0": 6, "a-v1": 2}
    indexes = {index["name"] for index in inspect(engine).get_indexes("decisions")}
    assert "ix_decisions_title" not in indexes
    opened[0].append_many([decision("later", "a", 1)])
    assert opened[1].counts.shown("a") == {"a-v0": 6, "a-v1": 3}


def test_processes_opening_an_old_log_together_count_it_once(engine: Engine) -> None:
    log = DecisionLog(engine)
    for n in range(20):
        log.append_many(page(f"p{n}-", f"u{n}"))
    with engine.begin() as conn:
        conn.execute(delete(decision_counts))
    assert run_together(lambda: DecisionLog(engine)) == []
    assert log.impressions(["a", "b", "c"]) == {"a": 80, "b": 60, "c": 20}


def test_decisions_logged_while_a_log_is_counted_are_counted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = DecisionLog(engine)
    log.append_many(page("p"))
    with engine.begin() as conn:
        conn.execute(delete(decision_counts))
    count_chosen = DecisionLog._count_chosen

    def meanwhile(self: DecisionLog, totals: Any, after: int, conn: Any = None) -> int:
        last = count_chosen(self, totals, after, conn)
        if conn is None:  # the pass without a lock: a process of the older version logs a page
            log.append_many(page("q", "u2"))
            with engine.begin() as writing:
                writing.execute(delete(decision_counts))
        return last

    monkeypatch.setattr(DecisionLog, "_count_chosen", meanwhile)

    assert DecisionLog(engine).impressions(["a", "b", "c"]) == {"a": 8, "b": 6, "c": 2}

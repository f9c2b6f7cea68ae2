"""How the decision log stores decisions: every storage form reads back as the decision that was
logged (learner, ``get``, consistency, DSJSON export), rows of older databases read the same, on
SQLite and PostgreSQL, and a decision costs few bytes on SQLite."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert, inspect, select, text

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.dsjson import export_dsjson, from_dsjson, to_dsjson
from artwork.bandit.event_ids import EventIdSigner
from artwork.bandit.log import _LAST_SHOWN, DecisionLog, LoggedEvent
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import decision_features, decisions, rewards
from artwork.config import Settings
from artwork.domain import Context, Decision, MemberProfile, Variant, VariantStatus
from artwork.errors import ConflictError
from artwork.testing.waiting import run_together

WHEN = datetime(2026, 3, 14, 20, 15, 9, 123456, tzinfo=UTC)
CONFIG = {"name": "vw_epsilon_greedy", "epsilon": 0.2, "mode": "online", "bits": 18}
IDS = ("t1-v0", "t1-v1", "t1-v2")
FEATURES = (
    {"variant": {"id=t1-v0": 1.0, "rank=0": 1.0}, "quality": {"sharpness": 0.1 + 0.2}},
    {"variant": {"id=t1-v1": 1.0, "rank=1": 1.0}, "tags": {"red car": 0.3333333333333333}},
    {"variant": {"id=t1-v2": 1.0, "rank=2": 1.0}},
)
CONTEXT = {"member": {"id=u1": 1.0}, "context": {"device=tv": 1.0, "country=nl": 1.0}}
GREEDY = (0.06666666666666667, 0.8666666666666667, 0.06666666666666667)


@pytest.fixture
def engine(any_engine: Engine) -> Engine:
    """Each supported database."""
    return any_engine


def decision(event_id: str, **changes: Any) -> Decision:
    made = Decision(
        event_id=event_id,
        created_at=WHEN,
        user_id="u1",
        title_id="t1",
        context=CONTEXT,
        action_ids=IDS,
        action_features=FEATURES,
        probabilities=GREEDY,
        chosen_index=1,
        model_version=4,
        policy=CONFIG | {"extra_exploration": 0.0, "sticky_variant": ""},
    )
    return replace(made, **changes)


def variety() -> list[Decision]:
    """Decisions in every form the writer stores: first met (inline) and repeated
    (referenced), sticky variants in and out of the actions, absent or unusual fields."""
    other_ids = ("t2-a", "t2-b", "t2-c")
    other_features = tuple({"variant": {f"id={v}": 1.0}} for v in other_ids)
    uniform = (1 / 3, 1 / 3, 1 / 3)
    made = []
    for n in range(3):
        made += [
            decision(f"plain{n}"),
            decision(
                f"sticky{n}", policy=CONFIG | {"extra_exploration": 0.1, "sticky_variant": "t1-v2"}
            ),
            # The same probabilities and sticky position for another title: shared.
            decision(
                f"other{n}",
                title_id="t2",
                action_ids=other_ids,
                action_features=other_features,
                policy=CONFIG | {"extra_exploration": 0.1, "sticky_variant": "t2-c"},
            ),
            decision(
                f"gone{n}", policy=CONFIG | {"extra_exploration": 0.1, "sticky_variant": "t9"}
            ),
            decision(f"bare{n}", policy=dict(CONFIG), probabilities=uniform, chosen_index=n),
            decision(f"int{n}", policy=CONFIG | {"extra_exploration": 0, "sticky_variant": ""}),
            decision(f"user{n}", user_id=f"u{n}", created_at=WHEN + timedelta(seconds=n)),
        ]
    return made


def stored_forms(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT CAST(policy AS TEXT), CAST(probabilities AS TEXT) FROM decisions")
        ).all()
    return {
        "ref" if policy.startswith('"') and probs == "0" else "inline" for policy, probs in rows
    }


def test_every_stored_form_reads_back_as_logged(engine: Engine) -> None:
    made = variety()
    log = DecisionLog(engine)
    log.append_many(made[:7])
    log.append_many(made[7:])

    assert stored_forms(engine) == {"ref", "inline"}
    # Exactly: repr tells 0 from 0.0 and tuples from lists, which == does not.
    assert [repr(e.decision) for e in log.events_after(0, 100)] == [repr(d) for d in made]
    fresh = DecisionLog(engine)  # another process: nothing cached
    assert [fresh.get(d.event_id) for d in made] == made
    assert [e.decision for e in DecisionLog(engine).events_at(range(1, 100))] == made
    assert fresh.last_shown("u1", ["t1", "t2"], WHEN) == {"t1": "t1-v1", "t2": "t2-b"}


def test_a_shared_body_of_a_page_that_rolled_back_is_written_again(engine: Engine) -> None:
    log = DecisionLog(engine)
    log.append(decision("first"))  # met once: inline
    with pytest.raises(ConflictError):
        log.append_many([decision("second"), decision("first")])  # shared now, rolled back
    log.append(decision("third"))

    assert stored_forms(engine) == {"ref", "inline"}
    assert [e.decision for e in DecisionLog(engine).events_after(0, 10)] == [
        decision("first"),
        decision("third"),
    ]


def test_a_titles_actions_are_one_body_shared_by_its_decisions(engine: Engine) -> None:
    made = [decision(f"e{i}", policy=CONFIG | {"extra_exploration": 0.1 * i}) for i in range(50)]
    log = DecisionLog(engine)
    log.append_many(made)

    with engine.connect() as conn:
        bodies = conn.scalar(text("SELECT count(*) FROM decision_features"))
        row = conn.execute(
            text(
                "SELECT CAST(context AS TEXT), CAST(action_ids AS TEXT), "
                "CAST(action_features AS TEXT) FROM decisions LIMIT 1"
            )
        ).one()
    assert bodies == 3  # the context, the title's ids and features, the configuration
    assert [len(value) for value in row] == [14, 14, 1]  # two references, and 0
    events = DecisionLog(engine).events_after(0, 100)
    assert [e.decision for e in events] == made
    assert events[0].decision.action_features is events[1].decision.action_features


def test_large_bodies_are_stored_compressed_and_read_whole(engine: Engine) -> None:
    features = tuple(
        {"variant": {f"id=t1-v{i}": 1.0}, "embedding": {f"p{k}+": 1.0 for k in range(40)}}
        for i in range(3)
    )
    made = [decision(f"e{i}", action_features=features) for i in range(3)]
    DecisionLog(engine).append_many(made)

    with engine.connect() as conn:
        stored = list(conn.scalars(text("SELECT body FROM decision_features")))
    assert any(body.startswith("z") for body in stored)
    assert sum(map(len, stored)) < len(json.dumps(features))
    assert [e.decision for e in DecisionLog(engine).events_after(0, 10)] == made


def test_the_dsjson_export_holds_whole_decisions(engine: Engine) -> None:
    made = variety()
    log = DecisionLog(engine, clock=lambda: WHEN + timedelta(days=1))
    log.append_many(made)
    assert log.record_reward("sticky1", 1.0, WHEN + timedelta(seconds=5))
    settings = Settings(reward_wait_s=600.0)

    out = io.StringIO()
    report = export_dsjson(log, out, settings, WHEN + timedelta(days=1))

    assert report.exported == len(made)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    expected = []
    for seq, original in enumerate(made, start=1):
        reward = log.get_reward(original.event_id)
        event = LoggedEvent(seq, original, reward)
        expected.append(to_dsjson(event, reward.value if reward else settings.default_reward))
    assert lines == json.loads(json.dumps(expected))
    assert [from_dsjson(line)[0] for line in lines] == made


def previous_ref(body: Any) -> tuple[str, str]:
    """A body as the previous version stored it: ``"@<16 hex>"`` and plain JSON."""
    text_ = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return "@" + hashlib.blake2b(text_.encode(), digest_size=8).hexdigest(), text_


def test_rows_of_older_databases_read_as_they_were_logged(engine: Engine) -> None:
    """Rows with every body inline (the first versions), rows referencing the context, the
    ids, the features and the configuration separately (the previous version), then rows of
    this version, in one log."""
    inline = decision("inline", policy={"name": "p", "epsilon": 0.1}, chosen_index=0)
    previous = decision(
        "previous",
        created_at=WHEN + timedelta(seconds=1),
        title_id="t2",
        policy=CONFIG | {"extra_exploration": 0.25, "sticky_variant": "t1-v0"},
    )
    base = {
        k: v for k, v in previous.policy.items() if k not in ("extra_exploration", "sticky_variant")
    }
    refs = dict(previous_ref(body) for body in (CONTEXT, list(IDS), list(FEATURES), base))
    context_ref, ids_ref, features_ref, base_ref = refs
    with engine.begin() as conn:
        conn.execute(
            insert(decisions),
            [
                {
                    "event_id": "inline",
                    "created_at": inline.created_at,
                    "user_id": "u1",
                    "title_id": "t1",
                    "context": CONTEXT,
                    "action_ids": list(IDS),
                    "action_features": list(FEATURES),
                    "probabilities": list(GREEDY),
                    "chosen_index": 0,
                    "model_version": 4,
                    "policy": {"name": "p", "epsilon": 0.1},
                },
                {
                    "event_id": "previous",
                    "created_at": previous.created_at,
                    "user_id": "u1",
                    "title_id": "t2",
                    "context": context_ref,
                    "action_ids": ids_ref,
                    "action_features": features_ref,
                    "probabilities": list(GREEDY),
                    "chosen_index": 1,
                    "model_version": 4,
                    "policy": [base_ref, 0.25, "t1-v0"],
                },
            ],
        )
        conn.execute(insert(decision_features), [{"ref": r, "body": b} for r, b in refs.items()])
    log = DecisionLog(engine)
    current = [decision(f"now{n}", created_at=WHEN + timedelta(seconds=2)) for n in range(2)]
    log.append_many(current)
    made = [inline, previous, *current]

    assert [e.decision for e in log.events_after(0, 10)] == made
    fresh = DecisionLog(engine)
    assert [fresh.get(d.event_id) for d in made] == made
    assert DecisionLog(engine).last_shown("u1", ["t1", "t2"], WHEN) == {
        "t1": "t1-v1",
        "t2": "t1-v1",
    }
    assert DecisionLog(engine).last_shown("u1", ["t1", "t2"], WHEN - timedelta(days=1)) == {
        "t1": "t1-v1",
        "t2": "t1-v1",
    }
    with engine.connect() as conn:
        conn.execute(text("DELETE FROM decisions WHERE seq > 2"))
        conn.commit()
    assert DecisionLog(engine).last_shown("u1", ["t1"], WHEN) == {"t1": "t1-v0"}


def make_variants(title_id: str) -> list[Variant]:
    return [
        Variant(
            variant_id=f"{title_id}-v{i}",
            title_id=title_id,
            rank=i,
            frame_time_s=float(i),
            score=0.5 + i / 10,
            scores={"sharpness": 0.2 * i, "exposure": 0.6, "face_area": 0.1 * i},
            tags={"close-up face": 0.9, "night": 0.4} if i % 2 else {"landscape": 1.0},
            embedder="test",
            image_path=f"{title_id}/{i}.jpg",
            width=1,
            height=1,
            status=VariantStatus.APPROVED,
            embedding=np.linspace(-1, 1, 16).astype(np.float32) * (i - 2),
        )
        for i in range(5)
    ]


def test_a_served_decision_takes_few_bytes_on_sqlite(tmp_path: Path) -> None:
    """Pages of the serving path (signed ids, cold-start exploration, consistency) measured as
    the serving benchmark does: SQLite pages of the decisions, their indexes and the bodies."""
    path = tmp_path / "size.db"
    engine = create_database_engine(f"sqlite:///{path}")
    clock = {"now": WHEN}
    bandit = ArtworkBandit(
        engine,
        Settings(epsilon=0.2),
        rng=np.random.default_rng(7),
        clock=lambda: clock["now"],
        signer=EventIdSigner(b"0123456789abcdef-secret"),
    )
    catalogue = {f"title-{t:04d}": make_variants(f"title-{t:04d}") for t in range(60)}
    titles = list(catalogue)
    profile = MemberProfile({"drama": 0.7, "comedy": 0.2}, {"close-up face": 0.5})
    rng = np.random.default_rng(3)
    pages = 120
    for page in range(pages):
        member = f"member-{int(rng.integers(200)):06d}"
        shown = rng.choice(len(titles), size=30, replace=False)
        context = Context(member, "tv", 20, page % 7, "nl", profile)
        bandit.choose_many(context, [(titles[i], catalogue[titles[i]]) for i in shown])
        clock["now"] += timedelta(seconds=1, microseconds=1234)
    engine.dispose()

    with sqlite3.connect(path) as conn:
        try:
            used = conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema "
                "WHERE tbl_name IN ('decisions', 'decision_features'))"
            ).fetchone()[0]
        except sqlite3.OperationalError as exc:
            pytest.skip(f"this SQLite has no dbstat: {exc}")
    per_decision = used / (pages * 30)
    assert per_decision <= 300, f"{per_decision:.0f} bytes per decision"


def test_a_batch_of_rewards_keeps_each_events_first_reward(engine: Engine) -> None:
    log = DecisionLog(engine)
    assert log.record_rewards([("e0", 1.0, WHEN)]) == [True]
    batch = [("e1", 1.0, WHEN), ("e2", 0.5, WHEN), ("e1", 0.0, WHEN), ("e0", 9.0, WHEN)]
    assert log.record_rewards(batch) == [True, True, False, False]
    assert [log.reward_of(key) for key in ("e0", "e1", "e2")] == [1.0, 1.0, 0.5]
    # More than one statement's worth, with repeats of earlier batches among them.
    many = [(f"m{i}", float(i), WHEN) for i in range(1201)] + [("e2", 7.0, WHEN)]
    recorded = log.record_rewards(many)
    assert recorded == [True] * 1201 + [False]
    assert log.reward_of("m1200") == 1200.0 and log.reward_of("e2") == 0.5
    later = WHEN + timedelta(hours=5)
    assert log.record_rewards([("t1", 1.0, later.astimezone(timezone(timedelta(hours=2))))])
    with engine.connect() as conn:
        stored = conn.execute(select(rewards.c.received_at).where(rewards.c.event_id == "t1"))
        assert stored.scalar_one() == later  # the instant kept, whatever zone it came in


def test_a_reward_batch_is_inserted_once_per_event_across_chunks(engine: Engine) -> None:
    """The group-commit insert: more rewards than one statement takes, an event twice in the
    batch and one rewarded before; each answer says whether its row went in."""
    log = DecisionLog(engine)
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        assert log.insert_rewards(conn, [("k-old", 0.5, at)]) == [True]
    items = [(f"k{i:04d}", float(i % 7), at + timedelta(seconds=i)) for i in range(1_203)]
    items.insert(10, ("k0003", 9.0, at))  # the same event again in the batch
    items.append(("k-old", 1.0, at))  # rewarded in an earlier batch
    with engine.begin() as conn:
        answers = log.insert_rewards(conn, items)
    assert answers == [True] * 10 + [False] + [True] * 1_193 + [False]
    with engine.connect() as conn:
        stored = {row[0]: (row[1], row[2]) for row in conn.execute(select(rewards))}
    assert len(stored) == 1_204
    assert stored["k0003"] == (3.0, at + timedelta(seconds=3))  # the first one stands
    assert stored["k-old"] == (0.5, at)
    assert stored["k1202"] == (float(1202 % 7), at + timedelta(seconds=1202))


def test_the_last_variant_shown_is_found_across_chunks_and_read_again_the_same(
    engine: Engine,
) -> None:
    """A member with more decisions in the window than one read of rows: each title's newest
    decision counts, whichever chunk it is in, in a fresh process and one that read it before."""
    titles = [f"t{n}" for n in range(300)]
    ids = {t: tuple(f"{t}-v{k}" for k in range(3)) for t in titles}
    features = {t: tuple({"variant": {f"id={v}": 1.0}} for v in ids[t]) for t in titles}
    log = DecisionLog(engine)
    for age, chosen in ((2, 0), (1, 2)):  # the older page first, then the newer one
        log.append_many(
            [
                decision(
                    f"{t}-{age}",
                    title_id=t,
                    action_ids=ids[t],
                    action_features=features[t],
                    created_at=WHEN - timedelta(minutes=age),
                    chosen_index=chosen,
                )
                for t in titles
            ]
        )
    since = WHEN - timedelta(hours=1)
    newest = {t: f"{t}-v2" for t in titles}
    assert log.last_shown("u1", titles, since) == newest
    assert log.last_shown("u1", titles, since) == newest  # from the variants worked out
    assert DecisionLog(engine).last_shown("u1", titles[::-1], since) == newest
    assert log.last_shown("u1", ["t7", "t299", "gone"], since) == {
        "t7": "t7-v2",
        "t299": "t299-v2",
    }
    # Neither page in the window, another member's, and no titles asked about.
    assert log.last_shown("u1", titles, WHEN - timedelta(seconds=30)) == {}
    assert log.last_shown("u2", titles, since) == {}
    assert log.last_shown("u1", [], since) == {}


@pytest.mark.parametrize("old_index", ["(user_id)", "(user_id, title_id)"])
def test_an_older_database_is_indexed_by_member_and_time_once(
    engine: Engine, old_index: str
) -> None:
    log = DecisionLog(engine)
    log.append_many([decision("first"), decision("second", title_id="t0")])
    old_name = "ix_decisions_user" if old_index == "(user_id)" else "ix_decisions_user_title"
    with engine.begin() as conn:  # the shape of a database from before
        conn.execute(text("DROP INDEX ix_decisions_user_time"))
        conn.execute(text(f"CREATE INDEX {old_name} ON decisions {old_index}"))
    assert run_together(lambda: DecisionLog(engine)) == []
    names = {index["name"] for index in inspect(engine).get_indexes("decisions")}
    assert "ix_decisions_user_time" in names
    assert old_name not in names
    assert log.last_shown("u1", ["t1", "t0"], WHEN - timedelta(days=1)) == {
        "t1": "t1-v1",
        "t0": "t1-v1",
    }
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_members_window_is_read_from_the_index_not_their_whole_history(
    tmp_path: Path,
) -> None:
    """However many decisions a member has from before the consistency window, a page reads
    a range of the (member, time) index: the window's rows only."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    DecisionLog(engine)
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN "
            + str(_LAST_SHOWN.compile(dialect=engine.dialect)).replace("?", "'x'")
        ).all()
    engine.dispose()
    steps = " ".join(str(row[-1]) for row in plan)
    assert "ix_decisions_user_time (user_id=? AND created_at>?)" in steps
    assert "TEMP B-TREE" not in steps  # newest first is the index's own order

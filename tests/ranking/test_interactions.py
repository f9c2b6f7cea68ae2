from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from artwork.domain import Interaction
from artwork.ranking.interactions import InteractionLog, Member

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_log_round_trips_interactions_sorted_by_time() -> None:
    plays = [
        Interaction("u2", "b", NOW, 30.0, None),
        Interaction("u1", "a", NOW - timedelta(hours=1), 60.0, 60.0),
        Interaction("u1", "zzz", NOW, 5.0, 60.0),  # not in the vocabulary: dropped
    ]
    log = InteractionLog.from_interactions(plays, ["a", "b"])
    assert len(log) == 2
    assert list(log) == [plays[1], plays[0]]
    assert log.title_ids == ("a", "b")
    assert [log.user_ids[u] for u in log.user] == ["u1", "u2"]


def test_log_checks_columns_and_order() -> None:
    with pytest.raises(ValueError, match="title"):
        InteractionLog(
            ("u",),
            ("a",),
            np.zeros(2, np.int32),
            np.zeros(1, np.int32),
            np.zeros(2),
            np.zeros(2, np.float32),
            np.zeros(2, np.float32),
        )
    with pytest.raises(ValueError, match="sorted"):
        InteractionLog(
            ("u",),
            ("a",),
            np.zeros(2, np.int32),
            np.zeros(2, np.int32),
            np.array([2.0, 1.0]),
            np.zeros(2, np.float32),
            np.zeros(2, np.float32),
        )


def test_reindex_select_and_per_member_plays() -> None:
    log = InteractionLog.from_arrays(
        ["u0", "u1"],
        ["a", "b", "c"],
        [1, 0, 1, 0],
        [2, 0, 1, 2],
        [4.0, 1.0, 3.0, 2.0],
        [10, 10, 10, 0.5],
    )
    assert log.timestamp.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert log.plays_of(1).tolist() == [2, 3]
    users, titles = log.pairs()  # the 0.5 s play is browsing
    assert list(zip(users.tolist(), titles.tolist(), strict=True)) == [(0, 0), (1, 1), (1, 2)]
    moved = log.reindex_titles(["c", "a"])
    assert [moved.title_ids[t] for t in moved.title] == ["a", "c", "c"]
    assert len(log.select(log.timestamp > 2.5)) == 2


def test_member_aggregates_plays_per_title() -> None:
    runtime = np.array([100.0, np.nan, 100.0])
    member = Member.from_plays(
        "u",
        title=np.array([0, 2, 0, 1, 2]),
        timestamp=np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        seconds=np.array([30.0, 50.0, 30.0, 40.0, 0.2]),
        runtime=runtime,
        play_duration=np.array([100.0, 100.0, 100.0, 80.0, 100.0]),
    )
    # Ordered by last play; the 0.2 s play of title 2 is ignored.
    assert member.titles.tolist() == [2, 0, 1]
    assert member.fraction.tolist() == pytest.approx([0.5, 0.6, 0.5])
    assert member.last_played.tolist() == [2.0, 3.0, 4.0]
    assert member.seen_mask(3).tolist() == [True, True, True]
    assert not member.finished_mask(3).any()
    assert Member.cold("n").is_cold

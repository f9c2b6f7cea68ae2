from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Homepage, Row, ScoredTitle, Title
from artwork.ranking.data import RankingData
from artwork.ranking.index import TitleIndex
from artwork.ranking.metrics import (
    TemporalSplit,
    evaluate,
    first_screen,
    ndcg_at_k,
    recall_at_k,
    sample_members,
    targets,
)
from artwork.ranking.rankers import ContinueWatchingRanker, PopularityRanker

from .conftest import NOW, play


def test_recall_and_ndcg_by_hand() -> None:
    assert recall_at_k([1, 2, 3], {2, 9}, 3) == 0.5
    assert recall_at_k([1, 2, 3], {1, 2, 3, 4}, 2) == 1.0  # at most k can be found
    assert ndcg_at_k([5, 1], {1}, 10) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k([1, 5], {1}, 10) == 1.0
    with pytest.raises(ValueError, match="relevant"):
        recall_at_k([1], set(), 1)


def test_temporal_split_targets_and_evaluation() -> None:
    titles = {t: Title(t, t, ("drama",), 100.0) for t in "abcd"}
    plays = [
        play("u1", "a", 100, 50),
        play("u1", "b", 40, 40),
        play("u2", "a", 100, 30),
        play("u3", "c", 100, 20),
        # test period: u1 resumes b and starts c; u2 starts b; u9 is new
        play("u1", "b", 60, 5),
        play("u1", "c", 100, 4),
        play("u2", "b", 100, 3),
        play("u9", "a", 100, 2),
    ]
    base = RankingData(titles, plays, NOW)
    split = TemporalSplit.by_fraction(base.log, 0.5)
    assert len(split.train) == 4 and len(split.test) == 4
    train = split.train_data(base)
    found = targets(split, train)
    position = train.index.position
    assert found.new == {"u1": {position["c"]}, "u2": {position["b"]}}
    assert found.resumed == {"u1": {position["b"]}}
    popularity, watching = PopularityRanker(), ContinueWatchingRanker()
    popularity.fit(train)
    watching.fit(train)
    scores = evaluate({"popularity": popularity}, train, found.new, k=1)
    # u1 has seen a, b: top-1 unseen is c (a hit); u2 has seen a: top-1 is b (c ties, by index).
    assert scores["popularity"].recall == 1.0 and scores["popularity"].members == 2
    resumed = evaluate({"cw": watching}, train, found.resumed, k=1, exclude_seen=False)
    assert resumed["cw"].recall == 1.0
    with pytest.raises(ValueError, match="test_fraction"):
        TemporalSplit.by_fraction(base.log, 1.0)


def test_first_screen_counts_repeats_and_genres() -> None:
    index = TitleIndex.from_titles([Title(t, t, (g,)) for t, g in zip("abcd", "xxyz", strict=True)])
    rows = tuple(
        Row(r, r, "s", tuple(ScoredTitle(t, 1.0) for t in titles))
        for r, titles in (("r1", "abc"), ("r2", "bd"), ("r3", "d"))
    )
    screen = first_screen(Homepage("u", rows), index, rows=2, titles=2)
    assert (screen.slots, screen.distinct_titles, screen.genres) == (4, 3, 2)
    assert screen.distinct_share == 0.75


def test_sample_members_is_seeded() -> None:
    ids = [f"m{i}" for i in range(100)]
    assert sample_members(ids, 10, 1) == sample_members(reversed(ids), 10, 1)
    assert len(sample_members(ids, 10, 1)) == 10
    assert sample_members(ids[:3], 10, 1) == ids[:3]


def test_member_split_holds_out_each_members_last_plays_without_leakage() -> None:
    from artwork.bench.catalogue import simulate_catalogue
    from artwork.ranking.metrics import MemberSplit

    world = simulate_catalogue(titles=150, users=300, interactions=6000, genres=5, seed=9)
    log = world.log
    split = MemberSplit.by_member(log, holdout=0.2, snapshots=3, spacing=0.1)
    assert list(split.snapshots) == sorted(split.snapshots)
    groups = split.eligible()
    assert groups and sum(len(g) for g in groups.values()) > 50
    base = world.ranking_data()
    for j, members in groups.items():
        data = split.train_data(base, j)
        assert data.log.timestamp.max() < split.snapshots[j]
        for u in members[:20]:
            rows = log.plays_of(u)
            n, cut = len(rows), int(split.cut[u])
            assert n - cut == max(1, int(0.2 * n)) and cut >= 1
            # Scored by a snapshot taken at or before the cut-off, never after.
            assert split.snapshots[j] <= split.cut_time[u]
            if j + 1 < len(split.snapshots):
                assert split.cut_time[u] < split.snapshots[j + 1]
            history = split.history(data.index, u)
            assert history.last_played.max() <= split.cut_time[u]
            held = split.held_out(u, history.seen_mask(len(data.index)))
            assert not held & set(history.titles.tolist())
    with pytest.raises(ValueError, match="holdout"):
        MemberSplit.by_member(log, holdout=1.0)
    with pytest.raises(ValueError, match="spacing"):
        MemberSplit.by_member(log, snapshots=5, spacing=0.3)

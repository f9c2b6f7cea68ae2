from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Homepage, Row, ScoredTitle, Title
from artwork.ranking.base import RankingData, TitleIndex
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

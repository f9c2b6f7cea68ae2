from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from artwork.domain import Interaction, Row, ScoredTitle, Title
from artwork.ranking.base import RankingData
from artwork.ranking.page import PageBuilder, RowRankingSelector
from artwork.ranking.rankers import ContinueWatchingRanker, GenreRanker, PopularityRanker

NOW = datetime(2026, 6, 1, 20, tzinfo=UTC)
TITLES = {
    "a": Title("a", "A", ("drama",), 100.0),
    "b": Title("b", "B", ("drama", "comedy"), 100.0),
    "c": Title("c", "C", ("comedy",), 100.0),
    "d": Title("d", "D", ("sci-fi",), 100.0),
}


def play(user: str, title: str, seconds: float, hours_ago: float) -> Interaction:
    return Interaction(user, title, NOW - timedelta(hours=hours_ago), seconds, 100.0)


PLAYS = [
    play("u1", "a", 100, 10),  # finished
    play("u1", "b", 30, 5),  # in progress
    play("u1", "c", 20, 1),  # in progress, most recent
    play("u2", "a", 100, 3),
    play("u3", "a", 50, 2),
    play("u3", "b", 0.5, 2),  # browsing, not watching
]


@pytest.fixture
def data() -> RankingData:
    return RankingData(TITLES, PLAYS, NOW)


def test_popularity_counts_distinct_viewers(data: RankingData) -> None:
    ranker = PopularityRanker()
    ranker.fit(data)
    ranked = ranker.rank("anyone", 4)
    assert [s.title_id for s in ranked] == ["a", "b", "c", "d"]
    assert ranked[0].score == 3.0
    assert ranked[-1].score == 0.0  # unwatched titles still rank, last


def test_continue_watching_in_progress_most_recent_first(data: RankingData) -> None:
    ranker = ContinueWatchingRanker()
    ranker.fit(data)
    assert [s.title_id for s in ranker.rank("u1", 10)] == ["c", "b"]
    assert ranker.rank("u2", 10) == []
    assert ranker.rank("nobody", 10) == []


def test_genre_ranker_keeps_only_its_genre(data: RankingData) -> None:
    ranker = GenreRanker("comedy")
    ranker.fit(data)
    assert [s.title_id for s in ranker.rank("u1", 10)] == ["b", "c"]
    with pytest.raises(ValueError, match="genre"):
        GenreRanker("")


def test_page_puts_continue_watching_first_and_genres_by_affinity(data: RankingData) -> None:
    page = PageBuilder().fit(data).build("u1")
    ids = [row.row_id for row in page.rows]
    assert ids[:2] == ["continue-watching", "popular"]
    # u1 watched drama twice and comedy twice, sci-fi never.
    assert ids.index("genre:sci-fi") > ids.index("genre:drama")
    assert all(row.items for row in page.rows)


def test_cold_start_member_gets_a_page_without_continue_watching(data: RankingData) -> None:
    page = PageBuilder().fit(data).build("new-member")
    ids = [row.row_id for row in page.rows]
    assert ids[0] == "popular"
    assert "continue-watching" not in ids
    assert {"genre:drama", "genre:comedy", "genre:sci-fi"} <= set(ids)


def test_limits_are_checked_and_applied(data: RankingData) -> None:
    page = PageBuilder(row_size=1, max_rows=2).fit(data).build("u1")
    assert len(page.rows) == 2 and all(len(r.items) == 1 for r in page.rows)
    with pytest.raises(ValueError, match="row_size"):
        PageBuilder(row_size=0)
    with pytest.raises(RuntimeError, match="fit"):
        PageBuilder().build("u1")


def test_row_ranking_selector_is_stable() -> None:
    rows = [
        Row(str(i), str(i), "x", (ScoredTitle("a", 1.0),), score)
        for i, score in enumerate([0.5, 0.9, 0.5])
    ]
    assert [r.row_id for r in RowRankingSelector().select(rows, 3)] == ["1", "0", "2"]
    with pytest.raises(ValueError, match="max_rows"):
        RowRankingSelector().select(rows, 0)

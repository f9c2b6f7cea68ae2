from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Title
from artwork.ranking.base import Ranker
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.index import top_k
from artwork.ranking.interactions import Member
from artwork.ranking.rankers import (
    ContentRanker,
    ContinueWatchingRanker,
    EaseRanker,
    GenreRanker,
    ItemSimilarityRanker,
    PopularityRanker,
    TrendingRanker,
)
from artwork.ranking.registry import RANKERS, make_ranker
from artwork.testing.contracts import RankerContract

from .conftest import NOW, play

TITLES = {
    "a": Title("a", "A", ("drama",), 100.0),
    "b": Title("b", "B", ("drama", "comedy"), 100.0),
    "c": Title("c", "C", ("comedy",), 100.0),
    "d": Title("d", "D", ("sci-fi",), 100.0),
}
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


# --- contract: every registered ranker ------------------------------------------------------------
class TestEveryRanker(RankerContract):
    @pytest.fixture(params=sorted(RANKERS))
    def ranker(self, request: pytest.FixtureRequest) -> Ranker:
        return make_ranker(request.param, RankingConfig())

    @pytest.fixture
    def ranking_data(self, taste_data: RankingData) -> RankingData:
        return taste_data

    @pytest.fixture
    def member_ids(self) -> list[str]:
        return ["s0", "d3", "x0", "nobody"]


# --- top-N, continue watching, genres ------------------------------------------------------------
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


def test_genre_ranker_without_genre_follows_the_members_genres(taste_data: RankingData) -> None:
    ranker = GenreRanker()
    ranker.fit(taste_data)
    top = [s.title_id for s in ranker.rank("x0", 2, exclude_seen=True)]
    assert set(top) == {"space-2", "space-3"}
    cold = [s.title_id for s in ranker.rank("nobody", 3)]
    assert cold[0] in {"space-1", "drama-1"}  # popularity for a new member


# --- trending -------------------------------------------------------------------------------------
def test_trending_decays_with_the_half_life_and_surfaces_a_new_title() -> None:
    titles = {t: Title(t, t.title(), ("drama",), 100.0) for t in ("classic", "premiere")}
    old = [play(f"u{i}", "classic", 100, 24 * 20) for i in range(30)]  # 20 days ago
    new = [play(f"n{i}", "premiere", 100, 2) for i in range(5)]  # two hours ago
    future = [play("late", "classic", 100, -5)]  # after `now`: ignored
    data = RankingData(titles, old + new + future, NOW)
    trending, popular = TrendingRanker(half_life_h=72.0), PopularityRanker()
    trending.fit(data)
    popular.fit(data)
    assert next(s.title_id for s in popular.rank("x", 2)) == "classic"
    ranked = trending.rank("x", 2)
    assert [s.title_id for s in ranked] == ["premiere", "classic"]
    # 30 plays 20 days old at a 3-day half-life weigh 30 * 0.5 ** (480 / 72).
    assert ranked[1].score == pytest.approx(30 * 0.5 ** (480 / 72), rel=1e-6)
    assert ranked[0].score == pytest.approx(5 * 0.5 ** (2 / 72), rel=1e-6)
    with pytest.raises(ValueError, match="half_life_h"):
        TrendingRanker(half_life_h=0)


def test_trending_has_no_padding_without_recent_plays() -> None:
    data = RankingData({"a": Title("a", "A")}, [], NOW)
    ranker = TrendingRanker()
    ranker.fit(data)
    assert ranker.rank("x", 5) == []


# --- personalised (EASE), similarity, content -----------------------------------------------------
def test_ease_learns_co_viewing(taste_data: RankingData) -> None:
    ranker = EaseRanker(l2=1.0)
    ranker.fit(taste_data)
    top = [s.title_id for s in ranker.rank("x0", 2, exclude_seen=True)]
    assert set(top) == {"space-2", "space-3"}
    ranked = [s.title_id for s in ranker.rank("x0", 8, exclude_seen=True)]
    # Co-viewed titles first, then the new title similar in content, drama after.
    assert ranked.index("new-space") == 2
    assert ranked.index("new-space") < ranked.index("drama-1")


def test_ease_scores_titles_outside_its_head_by_content(taste_data: RankingData) -> None:
    ranker = EaseRanker(l2=1.0, max_titles=3)
    ranker.fit(taste_data)
    scores = ranker.scores(taste_data.member("x0"))
    position = taste_data.index.position
    assert np.isfinite(scores[position["new-space"]])  # no plays, has content
    assert not np.isfinite(scores[position["untagged"]])  # no plays, no content
    # A new member gets popularity.
    cold = [s.title_id for s in ranker.rank(Member.cold("new"), 1)]
    assert cold == ["space-1"]


def test_ease_checks_arguments() -> None:
    with pytest.raises(ValueError, match="l2"):
        EaseRanker(l2=0)
    with pytest.raises(ValueError, match="max_titles"):
        EaseRanker(max_titles=0)
    with pytest.raises(ValueError, match="content_weight"):
        EaseRanker(content_weight=2)


def test_similar_titles_blend_co_viewing_and_content(taste_data: RankingData) -> None:
    ranker = ItemSimilarityRanker(neighbours=4, content_weight=0.3)
    ranker.fit(taste_data)
    position, ids = taste_data.index.position, taste_data.index.title_ids
    similar, values = ranker.similar(position["space-1"], 4)
    names = [ids[i] for i in similar]
    assert set(names[:2]) == {"space-2", "space-3"}  # co-viewed and alike
    # The new title nobody watched is a neighbour through its content alone.
    assert "new-space" in names
    assert list(values) == sorted(values, reverse=True)
    # Without content, it cannot be.
    blind = ItemSimilarityRanker(neighbours=4, content_weight=0.0)
    blind.fit(taste_data)
    assert "new-space" not in [ids[i] for i in blind.similar(position["space-1"], 4)[0]]
    with pytest.raises(ValueError, match="neighbours"):
        ItemSimilarityRanker(neighbours=0)


def test_content_ranker_reaches_a_new_title(taste_data: RankingData) -> None:
    ranker = ContentRanker()
    ranker.fit(taste_data)
    top = [s.title_id for s in ranker.rank("x0", 1, exclude_seen=True)]
    assert top == ["new-space"]
    assert "untagged" not in [s.title_id for s in ranker.rank("x0", 8)]


def test_top_k_breaks_ties_by_index_and_skips_excluded() -> None:
    scores = np.array([1.0, 3.0, 3.0, -np.inf, 2.0])
    chosen, values = top_k(scores, 3)
    assert chosen.tolist() == [1, 2, 4]
    assert values.tolist() == [3.0, 3.0, 2.0]
    chosen, _ = top_k(scores, 10, exclude=np.array([False, True, False, False, False]))
    assert chosen.tolist() == [2, 4, 0]
    big = np.zeros(2000)
    big[[5, 1500]] = 1.0
    assert top_k(big, 3)[0].tolist() == [5, 1500, 0]


def test_unknown_ranker_name_is_named() -> None:
    with pytest.raises(ValueError, match="nope"):
        make_ranker("nope", RankingConfig())

"""The row source contract, run over every registered row source, for a member with a history
and for a new one."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Title
from artwork.ranking.base import RowSource
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.index import TitleIndex, top_k
from artwork.ranking.interactions import Member
from artwork.ranking.model import RankingModel
from artwork.ranking.page_context import PageRequest
from artwork.ranking.rankers import PopularityRanker
from artwork.ranking.registry import ROW_SOURCES, make_row_source
from artwork.ranking.rows import GenreRows
from artwork.testing.contracts import RowSourceContract


class TestEveryRowSource(RowSourceContract):
    @pytest.fixture(params=sorted(ROW_SOURCES))
    def source(self, request: pytest.FixtureRequest) -> RowSource:
        return make_row_source(request.param, RankingConfig())

    @pytest.fixture(params=["s0", "x0", "newcomer"])
    def page_request(self, request: pytest.FixtureRequest, taste_data: RankingData) -> PageRequest:
        model = RankingModel.fit(taste_data, RankingConfig())
        user_id = request.param
        member = taste_data.member(user_id) if user_id != "newcomer" else Member.cold(user_id)
        return PageRequest(member, model.index, model.rankers)


class _FixedScores:
    """A ranker whose scores are given (the genre rows' arithmetic under test, not a model)."""

    def __init__(self, scores: np.ndarray) -> None:
        self._scores = scores

    def scores(self, member: Member) -> np.ndarray:
        return self._scores


def test_genre_rows_take_each_genres_top_titles_ties_by_index() -> None:
    rng = np.random.default_rng(3)
    genres = ("action", "comedy", "drama", "horror", "sci-fi")
    titles = [
        Title(f"t{i:03d}", f"t{i:03d}", tuple(g for g in genres if rng.random() < 0.3))
        for i in range(300)
    ]
    index = TitleIndex.from_titles(titles)
    scores = np.round(rng.normal(size=len(titles)), 1)  # many ties
    scores[rng.random(len(titles)) < 0.2] = -np.inf  # never returned
    request = PageRequest(
        Member.cold("newcomer"), index, {PopularityRanker.name: _FixedScores(scores)}
    )
    rows = {row.row_id: row for row in GenreRows().rows(request, 12)}
    for j, genre in enumerate(index.genres):
        members = index.genre_titles[j]
        chosen, values = top_k(scores[members], 12)
        picked = zip(members[chosen], values, strict=True)
        expected = [(index.title_ids[i], float(v)) for i, v in picked]
        got = [(item.title_id, item.score) for item in rows[f"genre:{genre}"].items]
        assert got == expected
    assert GenreRows().rows(PageRequest(Member.cold("n"), index, {}), 12) == []

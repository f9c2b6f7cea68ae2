"""The row source contract, run over every registered row source, for a member with a history
and for a new one."""

from __future__ import annotations

import pytest

from artwork.ranking.base import RowSource
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.interactions import Member
from artwork.ranking.model import RankingModel
from artwork.ranking.page_context import PageRequest
from artwork.ranking.registry import ROW_SOURCES, make_row_source
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

"""The contract every :class:`~artwork.ranking.base.Ranker` keeps.

Fixtures: ``ranker`` (unfitted) and ``ranking_data`` (what it is fitted on); ``member_ids``
(members to ask about; by default three of the data's members and one it never saw) may be
overridden.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from artwork.ranking.base import Ranker
from artwork.ranking.data import RankingData
from artwork.ranking.index import TitleIndex
from artwork.ranking.interactions import Member

UNSEEN_MEMBER = "a-member-the-data-never-saw"


class RankerContract:
    """What every :class:`~artwork.ranking.base.Ranker` promises."""

    @pytest.fixture
    def member_ids(self, ranking_data: RankingData) -> list[str]:
        return [*sorted(ranking_data.log.user_index)[:3], UNSEEN_MEMBER]

    def test_an_unfitted_ranker_refuses_to_rank(self, ranker: Ranker) -> None:
        with pytest.raises(RuntimeError, match="before fit"):
            ranker.rank(Member.cold("x"), 3)

    def test_scores_rank_and_limits(
        self, ranker: Ranker, ranking_data: RankingData, member_ids: list[str]
    ) -> None:
        ranker.fit(ranking_data)
        n = len(ranking_data.index)
        for user in member_ids:
            member = ranking_data.member(user)
            scores = ranker.scores(member)
            assert scores.shape == (n,)
            assert not np.isnan(scores).any()
            ranked = ranker.rank(user, 4)
            assert len(ranked) <= 4
            assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
            assert len({s.title_id for s in ranked}) == len(ranked)
            assert ranker.rank(member, 4) == ranked  # by id or by Member alike
            unseen = ranker.rank(user, n, exclude_seen=True)
            seen = {ranking_data.index.title_ids[t] for t in member.titles}
            assert not seen & {s.title_id for s in unseen}
            assert ranker.rank(user, 0) == []

    def test_state_round_trip(
        self, ranker: Ranker, ranking_data: RankingData, member_ids: list[str]
    ) -> None:
        restored = copy.deepcopy(ranker)  # unfitted, configured alike
        ranker.fit(ranking_data)
        state = {k: np.array(v) for k, v in ranker.get_state().items()}
        index = TitleIndex.from_json(ranking_data.index.to_json(), ranking_data.index.content)
        restored.load_state(index, state)
        for user in member_ids:
            member = ranking_data.member(user)
            assert np.array_equal(restored.scores(member), ranker.scores(member))
        with pytest.raises(RuntimeError, match="Member"):
            restored.rank(member_ids[0], 3)

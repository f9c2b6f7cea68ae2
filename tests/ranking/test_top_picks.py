from __future__ import annotations

import numpy as np
import pytest

from artwork.ranking.index import TitleIndex
from artwork.ranking.interactions import Member
from artwork.ranking.top_picks import FEATURES, TopPicksRanker, candidates_and_features


@pytest.fixture(scope="module")
def fitted(world):  # type: ignore[no-untyped-def]
    ranker = TopPicksRanker(max_titles=300, candidates=60)
    ranker.fit(world.ranking_data())
    return ranker


def test_learns_trees_on_the_validation_period(fitted: TopPicksRanker) -> None:
    examples, positives = fitted.examples
    assert fitted.trees is not None and 0 < positives < examples
    assert fitted.signals is not None
    assert fitted.signals.trends.shape[0] == 2
    assert np.isclose(fitted.signals.trends.sum(axis=1), 1.0).all()


def test_candidates_are_unseen_and_features_complete(world, fitted: TopPicksRanker) -> None:  # type: ignore[no-untyped-def]
    data = world.ranking_data()
    member = data.member(world.log.user_ids[int(world.log.user[-1])])
    assert fitted.signals is not None
    cand, x = candidates_and_features(fitted.signals, data.index, member, 60)
    assert x.shape == (len(cand), len(FEATURES)) and len(cand) >= 60
    assert not member.seen_mask(len(data.index))[cand].any()
    scores = fitted.scores(member)
    assert np.isfinite(scores[cand]).all()
    assert np.isneginf(np.delete(scores, cand)).all()


def test_a_new_member_gets_the_charts(world, fitted: TopPicksRanker) -> None:  # type: ignore[no-untyped-def]
    cold = fitted.rank(Member.cold("new"), 10)
    assert len(cold) == 10
    assert fitted.signals is not None
    trend = fitted.signals.trends[0]
    top_trending = set(np.argsort(-trend)[:30].tolist())
    position = fitted.require_index().position
    assert sum(position[s.title_id] in top_trending for s in cold) >= 5


def test_scores_the_same_from_saved_state(world) -> None:  # type: ignore[no-untyped-def]
    # Served from state alone: what the artifact holds is enough.
    data = world.ranking_data()
    ranker = TopPicksRanker(max_titles=300, candidates=60)
    ranker.fit(data)
    restored = TopPicksRanker(max_titles=300, candidates=60)
    index = TitleIndex.from_json(data.index.to_json(), data.index.content)
    restored.load_state(index, {k: np.array(v) for k, v in ranker.get_state().items()})
    for user in world.log.user_ids[:20]:
        member = data.member(user)
        assert np.array_equal(restored.scores(member), ranker.scores(member))


def test_small_data_falls_back_to_a_fixed_blend(taste_data) -> None:  # type: ignore[no-untyped-def]
    ranker = TopPicksRanker(l2=1.0)
    ranker.fit(taste_data)
    assert ranker.trees is None
    top = [s.title_id for s in ranker.rank("x0", 2, exclude_seen=True)]
    assert set(top) == {"space-2", "space-3"}


def test_arguments_are_checked() -> None:
    for kwargs, name in (
        ({"l2": 0}, "l2"),
        ({"max_titles": 0}, "max_titles"),
        ({"half_life_d": 0}, "half_life_d"),
        ({"candidates": 0}, "candidates"),
    ):
        with pytest.raises(ValueError, match=name):
            TopPicksRanker(**kwargs)  # type: ignore[arg-type]

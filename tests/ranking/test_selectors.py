"""The row selector contract over every registered selector, then what each selector does."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.ranking.base import RowSelector
from artwork.ranking.page_model import FEATURE_NAMES, PageModel
from artwork.ranking.registry import ROW_SELECTORS
from artwork.ranking.selectors import (
    LearnedPageSelector,
    RowRankingSelector,
    StagewiseSelector,
)
from artwork.testing.contracts import RowSelectorContract
from artwork.testing.contracts.selectors import context, row


@pytest.fixture(params=sorted(ROW_SELECTORS))
def selector(request: pytest.FixtureRequest) -> RowSelector:
    return ROW_SELECTORS[request.param]()


class TestEveryRowSelector(RowSelectorContract):
    """The shared contract, over every registered selector."""


def test_row_ranking_is_stable() -> None:
    rows = [row(str(i), "a", score) for i, score in enumerate([0.5, 0.9, 0.5])]
    assert [r.row_id for r in RowRankingSelector().select(rows, 3)] == ["1", "0", "2"]


def test_stagewise_never_repeats_a_title_on_the_first_screen() -> None:
    candidates = [row("r1", "abcdef", 0.9), row("r2", "abcghi", 0.85), row("r3", "abcdef", 0.8)]
    plain = RowRankingSelector().select(candidates, 3, context(3, 3))
    assert [i.title_id for i in plain[1].items][:3] == ["a", "b", "c"]  # repeats
    page = StagewiseSelector().select(candidates, 3, context(3, 3))
    first = [i.title_id for r in page[:3] for i in r.items[:3]]
    assert len(first) == len(set(first)) == 9
    assert [i.title_id for i in page[0].items] == list("abcdef")
    # The second row keeps its order without the titles already shown.
    second = next(r for r in page if r.row_id == "r2")
    assert [i.title_id for i in second.items] == list("ghi")


def test_stagewise_prefers_a_genre_the_page_lacks() -> None:
    candidates = [
        row("drama-1", "abc", 0.9),
        row("drama-2", "def", 0.88),
        row("comedy", "ghi", 0.8),
    ]
    ranked = [r.row_id for r in RowRankingSelector().select(candidates, 3, context())]
    assert ranked == ["drama-1", "drama-2", "comedy"]
    staged = [r.row_id for r in StagewiseSelector().select(candidates, 3, context())]
    assert staged == ["drama-1", "comedy", "drama-2"]


def _model(**weights: float) -> PageModel:
    coef = np.array([weights.get(name, 0.0) for name in FEATURE_NAMES])
    return PageModel(FEATURE_NAMES, coef, -2.0)


def test_learned_selector_follows_its_model() -> None:
    candidates = [row("r1", "abc", 0.9), row("r2", "abc", 0.85), row("r3", "ghi", 0.5)]
    novelty = LearnedPageSelector(_model(relevance=1.0, novelty=5.0))
    assert [r.row_id for r in novelty.select(candidates, 3, context())] == ["r1", "r3", "r2"]
    relevance = LearnedPageSelector(_model(relevance=5.0))
    assert [r.row_id for r in relevance.select(candidates, 3, context())] == ["r1", "r2", "r3"]
    # Without a model it builds what stage-wise builds.
    assert LearnedPageSelector().select(candidates, 3, context()) == StagewiseSelector().select(
        candidates, 3, context()
    )

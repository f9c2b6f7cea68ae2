from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Row, ScoredTitle, Title
from artwork.ranking.base import RowSelector
from artwork.ranking.index import TitleIndex
from artwork.ranking.page_context import PageContext
from artwork.ranking.page_model import FEATURE_NAMES, PageModel
from artwork.ranking.registry import ROW_SELECTORS
from artwork.ranking.selectors import (
    LearnedPageSelector,
    RowRankingSelector,
    StagewiseSelector,
)


def row(row_id: str, titles: str, score: float, source: str = "genre") -> Row:
    return Row(row_id, row_id, source, tuple(ScoredTitle(t, 1.0) for t in titles), score)


# Titles a..l; a-f are drama, g-l comedy.
INDEX = TitleIndex.from_titles(
    [Title(t, t.upper(), ("drama",) if t <= "f" else ("comedy",)) for t in "abcdefghijkl"]
)


def context(rows: int = 2, titles: int = 3) -> PageContext:
    return PageContext(
        INDEX, np.array([0.5, 0.5]), first_screen_rows=rows, first_screen_titles=titles
    )


@pytest.fixture(params=sorted(ROW_SELECTORS))
def selector(request: pytest.FixtureRequest) -> RowSelector:
    return ROW_SELECTORS[request.param]()


def test_contract(selector: RowSelector) -> None:
    candidates = [
        row("r1", "abcd", 0.9),
        row("r2", "cdef", 0.8),
        row("r3", "ghij", 0.5),
        row("r4", "kl", 0.4, "popularity"),
    ]
    assert selector.select([], 3, context()) == []
    with pytest.raises(ValueError, match="max_rows"):
        selector.select(candidates, 0, context())
    for ctx in (context(), None):
        page = selector.select(candidates, 3, ctx)
        ids = [r.row_id for r in page]
        assert 0 < len(page) <= 3 and len(set(ids)) == len(ids)
        assert set(ids) <= {"r1", "r2", "r3", "r4"}
        originals = {r.row_id: [i.title_id for i in r.items] for r in candidates}
        for placed in page:  # titles keep their order (some may be left out)
            shown = [i.title_id for i in placed.items]
            assert shown == [t for t in originals[placed.row_id] if t in shown]
    assert len(selector.select(candidates, 10, context())) == 4


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

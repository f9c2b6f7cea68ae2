"""Row sources: each turns a ranker's scores into candidate homepage rows with a relevance.

Row scores are what row-ranking sorts by, and one feature of the stage-wise and learned
selectors: continue watching leads when present, then the personalised row, what is popular
and trending, "because you watched" rows, and genres by the member's affinity (their share of
watched titles in the genre). A member with no history sees no personal rows and genres
ordered by catalogue size.

Discovery rows leave out what the member finished; the personalised and similarity rows leave
out everything they started (continue watching has those).
"""

from __future__ import annotations

import numpy as np

from artwork.domain import Row
from artwork.ranking.base import RowSource
from artwork.ranking.index import top_k
from artwork.ranking.page_context import PageRequest
from artwork.ranking.rankers import (
    ContinueWatchingRanker,
    EaseRanker,
    ItemSimilarityRanker,
    PopularityRanker,
    TopPicksRanker,
    TrendingRanker,
)

CONTINUE_WATCHING_SCORE = 1.0
PERSONALIZED_SCORE = 0.85
POPULAR_SCORE = 0.8
TRENDING_SCORE = 0.78
BECAUSE_YOU_WATCHED_SCORE = 0.75
BECAUSE_YOU_WATCHED_DECAY = 0.05
GENRE_BASE_SCORE = 0.2
GENRE_AFFINITY_WEIGHT = 0.7


class ContinueWatchingRows(RowSource):
    """ "Continue watching": titles in progress, most recent first."""

    name = "continue_watching"

    def rows(self, request: PageRequest, k: int) -> list[Row]:
        ranker = request.rankers.get(ContinueWatchingRanker.name)
        if ranker is None:
            return []
        titles, values = ranker.top(request.member, k)
        if not len(titles):
            return []
        return [
            request.row(
                "continue-watching",
                "Continue watching",
                self.name,
                titles,
                values,
                CONTINUE_WATCHING_SCORE,
            )
        ]


class PersonalizedRows(RowSource):
    """ "Top picks for you", for members with a history: the "Top picks" ranker (time-aware
    EASE blended with the charts) when the model has it, plain EASE otherwise."""

    name = "personalized"

    def rows(self, request: PageRequest, k: int) -> list[Row]:
        if request.member.is_cold:
            return []
        scores = request.scores(TopPicksRanker.name)
        if scores is None:
            scores = request.scores(EaseRanker.name)
        if scores is None:
            return []
        titles, values = top_k(scores, k, request.seen)
        if not len(titles):
            return []
        return [
            request.row(
                "top-picks", "Top picks for you", self.name, titles, values, PERSONALIZED_SCORE
            )
        ]


class PopularRows(RowSource):
    """ "Popular": the most-watched titles the member has not finished."""

    name = "popularity"

    def rows(self, request: PageRequest, k: int) -> list[Row]:
        ranker = request.rankers.get(PopularityRanker.name)
        if ranker is None:
            return []
        titles, values = ranker.top(request.member, k, request.finished)
        if not len(titles):
            return []
        return [request.row("popular", "Popular", self.name, titles, values, POPULAR_SCORE)]


class TrendingRows(RowSource):
    """ "Trending now": recent, time-decayed popularity."""

    name = "trending"

    def rows(self, request: PageRequest, k: int) -> list[Row]:
        ranker = request.rankers.get(TrendingRanker.name)
        if ranker is None:
            return []
        titles, values = ranker.top(request.member, k, request.finished)
        if not len(titles):
            return []
        return [request.row("trending", "Trending now", self.name, titles, values, TRENDING_SCORE)]


class BecauseYouWatchedRows(RowSource):
    """ "Because you watched X", one row for each of the ``anchors`` titles watched last.

    Args:
        anchors: how many such rows at most.

    Raises:
        ValueError: ``anchors`` < 0.
    """

    name = "because_you_watched"

    def __init__(self, anchors: int = 3) -> None:
        if anchors < 0:
            raise ValueError(f"anchors must be >= 0, got {anchors}")
        self.anchors = anchors

    def rows(self, request: PageRequest, k: int) -> list[Row]:
        ranker = request.rankers.get(ItemSimilarityRanker.name)
        if not isinstance(ranker, ItemSimilarityRanker) or self.anchors == 0:
            return []
        rows = []
        index = request.index
        for rank, anchor in enumerate(request.member.titles[::-1][: self.anchors]):
            titles, values = ranker.similar(int(anchor), k, request.seen)
            if not len(titles):
                continue
            score = BECAUSE_YOU_WATCHED_SCORE - BECAUSE_YOU_WATCHED_DECAY * rank
            rows.append(
                request.row(
                    f"because:{index.title_ids[anchor]}",
                    f"Because you watched {index.names[anchor]}",
                    self.name,
                    titles,
                    values,
                    score,
                )
            )
        return rows


class GenreRows(RowSource):
    """One row per genre, ordered by the member's affinity for it; within a genre, titles in
    the personalised ranker's order for members with a history, by popularity otherwise."""

    name = "genre"

    def rows(self, request: PageRequest, k: int) -> list[Row]:
        index = request.index
        if not index.genres:
            return []
        popular = request.scores(PopularityRanker.name)
        personal = None if request.member.is_cold else request.scores(EaseRanker.name)
        if personal is not None:
            # Titles the personalised ranker does not score follow those it does, by popularity.
            finite = np.isfinite(personal)
            floor = float(personal[finite].min(initial=0.0)) - 1.0
            fill = floor + (0.0 if popular is None else 1e-9 * popular)
            base = np.where(finite, personal, fill)
        elif popular is not None:
            base = popular
        else:
            return []
        scores = np.where(request.finished, -np.inf, base)
        affinity = request.genre_affinity
        sizes = index.genre_sizes
        largest = sizes.max(initial=1.0)
        # Every genre's top k from one sort: the titles best first (ties by index, as top_k
        # breaks them), then each genre's first k among them.
        ranked = np.argsort(-scores, kind="stable")
        ranked = ranked[np.isfinite(scores[ranked])]
        in_genre = index.genre_matrix[ranked]
        in_genre &= np.cumsum(in_genre, axis=0) <= k
        rows = []
        for j, genre in enumerate(index.genres):
            titles = ranked[in_genre[:, j]].astype(np.int32)
            if not len(titles):
                continue
            # Size breaks ties between genres the member has not watched (cold start).
            score = (
                GENRE_BASE_SCORE
                + GENRE_AFFINITY_WEIGHT * float(affinity[j])
                + 0.01 * sizes[j] / largest
            )
            rows.append(
                request.row(
                    f"genre:{genre}", genre.title(), self.name, titles, scores[titles], score
                )
            )
        return rows


ROW_SOURCE_CLASSES: tuple[type[RowSource], ...] = (
    ContinueWatchingRows,
    PersonalizedRows,
    PopularRows,
    TrendingRows,
    BecauseYouWatchedRows,
    GenreRows,
)
"""Every row source, in the order pages list them; :mod:`artwork.ranking.registry` keys them."""

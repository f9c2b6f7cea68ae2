"""Rankers, row sources and row selectors by name, so settings, the API and artifacts pick one.

Rankers (``RankingConfig.rankers``; every one by default):

=======================  =========================================================================
name                     ranker
=======================  =========================================================================
``popularity``           :class:`~artwork.ranking.rankers.PopularityRanker`: top-N by viewers
``trending``             :class:`~artwork.ranking.rankers.TrendingRanker`: time-decayed viewers
``continue_watching``    :class:`~artwork.ranking.rankers.ContinueWatchingRanker`
``genre``                :class:`~artwork.ranking.rankers.GenreRanker`
``personalized``         :class:`~artwork.ranking.rankers.EaseRanker`: EASE, content for the rest
``because_you_watched``  :class:`~artwork.ranking.rankers.ItemSimilarityRanker`: co-viewing
``content``              :class:`~artwork.ranking.rankers.ContentRanker`: embedding similarity
``top_picks``            :class:`~artwork.ranking.top_picks.TopPicksRanker`: boosted-tree blend
=======================  =========================================================================

Row sources (every one feeds every page) are in :mod:`artwork.ranking.rows`; row selectors
(``ARTWORK_ROW_SELECTOR``, ``?selector=``: ``row_ranking``, ``stagewise``, ``learned``) in
:mod:`artwork.ranking.selectors`. Imports only downwards: implementations never import this.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from artwork.ranking.base import Ranker, RowSelector, RowSource
from artwork.ranking.config import RankingConfig
from artwork.ranking.rankers import (
    RANKER_CLASSES,
    EaseRanker,
    ItemSimilarityRanker,
    TopPicksRanker,
    TrendingRanker,
)
from artwork.ranking.rows import ROW_SOURCE_CLASSES, BecauseYouWatchedRows
from artwork.ranking.selectors import ROW_SELECTOR_CLASSES

RANKERS: Mapping[str, type[Ranker]] = MappingProxyType({cls.name: cls for cls in RANKER_CLASSES})
"""Ranker classes by name."""

ROW_SOURCES: Mapping[str, type[RowSource]] = MappingProxyType(
    {cls.name: cls for cls in ROW_SOURCE_CLASSES}
)
"""Row source classes by name, in the order pages list them."""

ROW_SELECTORS: Mapping[str, type[RowSelector]] = MappingProxyType(
    {cls.name: cls for cls in ROW_SELECTOR_CLASSES}
)
"""Row selector classes by name."""


def make_ranker(name: str, config: RankingConfig) -> Ranker:
    """An unfitted ranker of the registry, configured by ``config``.

    Raises:
        ValueError: no ranker is called ``name``.
    """
    if name not in RANKERS:
        raise ValueError(f"no ranker named {name!r}; known: {sorted(RANKERS)}")
    if name == TrendingRanker.name:
        return TrendingRanker(config.trending_half_life_h)
    if name == EaseRanker.name:
        return EaseRanker(config.ease_l2, config.ease_max_titles)
    if name == ItemSimilarityRanker.name:
        return ItemSimilarityRanker(config.similar_titles, config.similarity_content_weight)
    if name == TopPicksRanker.name:
        return TopPicksRanker(
            config.ease_l2,
            config.ease_max_titles,
            config.top_picks_half_life_d,
            config.top_picks_candidates,
        )
    return RANKERS[name]()


def make_row_source(name: str, config: RankingConfig) -> RowSource:
    """A row source of the registry, configured by ``config``.

    Raises:
        ValueError: no row source is called ``name``.
    """
    if name not in ROW_SOURCES:
        raise ValueError(f"no row source named {name!r}; known: {sorted(ROW_SOURCES)}")
    if name == BecauseYouWatchedRows.name:
        return BecauseYouWatchedRows(config.because_you_watched_rows)
    return ROW_SOURCES[name]()

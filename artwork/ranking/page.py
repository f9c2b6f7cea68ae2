"""Page assembly: candidate rows from every row source, chosen and ordered by a row selector."""

from __future__ import annotations

from collections.abc import Sequence

from artwork.domain import Homepage, Row
from artwork.ranking.base import RankingData, RowSelector, RowSource
from artwork.ranking.rows import ROW_SOURCES


class RowRankingSelector(RowSelector):
    """Rank rows independently by their own score (ties keep the sources' order)."""

    name = "row_ranking"

    def select(self, candidates: Sequence[Row], max_rows: int) -> list[Row]:
        if max_rows < 1:
            raise ValueError(f"max_rows must be >= 1, got {max_rows}")
        order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].score, i))
        return [candidates[i] for i in order[:max_rows]]


ROW_SELECTORS: dict[str, type[RowSelector]] = {RowRankingSelector.name: RowRankingSelector}


class PageBuilder:
    """Builds a member's homepage from one fitted snapshot of the data."""

    def __init__(
        self,
        sources: Sequence[RowSource] | None = None,
        selector: RowSelector | None = None,
        *,
        row_size: int = 25,
        max_rows: int = 40,
    ) -> None:
        if row_size < 1:
            raise ValueError(f"row_size must be >= 1, got {row_size}")
        if max_rows < 1:
            raise ValueError(f"max_rows must be >= 1, got {max_rows}")
        self.sources = list(sources) if sources is not None else [c() for c in ROW_SOURCES.values()]
        self.selector = selector or RowRankingSelector()
        self.row_size = row_size
        self.max_rows = max_rows
        self.data: RankingData | None = None

    def fit(self, data: RankingData) -> PageBuilder:
        for source in self.sources:
            source.fit(data)
        self.data = data
        return self

    def build(self, user_id: str) -> Homepage:
        """The member's page: at most ``max_rows`` non-empty rows of at most ``row_size`` titles.

        Raises:
            RuntimeError: ``fit`` was not called.
        """
        if self.data is None:
            raise RuntimeError("PageBuilder.build called before fit")
        candidates = [row for s in self.sources for row in s.rows(user_id, self.row_size)]
        return Homepage(user_id, tuple(self.selector.select(candidates, self.max_rows)))

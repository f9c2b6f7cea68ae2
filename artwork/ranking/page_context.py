"""What one member's page build hands on: a ``PageRequest`` to the row sources (the member, the
fitted rankers, each ranker's scores computed at most once) and a ``PageContext`` to the row
selector (what it may know beyond the rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Row, ScoredTitle, Title
from artwork.ranking.index import Scores, TitleIndex
from artwork.ranking.interactions import Member

if TYPE_CHECKING:
    from artwork.ranking.base import Ranker


class PageRequest:
    """What row sources share while one member's page is built: the member, the fitted rankers,
    and each ranker's scores for the member, computed at most once per page."""

    def __init__(self, member: Member, index: TitleIndex, rankers: Mapping[str, Ranker]) -> None:
        self.member = member
        self.index = index
        self.rankers = rankers
        self.row_titles: dict[str, NDArray[np.int32]] = {}
        self._scores: dict[str, Scores] = {}

    @cached_property
    def seen(self) -> NDArray[np.bool_]:
        """Titles the member has watched."""
        return self.member.seen_mask(len(self.index))

    @cached_property
    def finished(self) -> NDArray[np.bool_]:
        """Titles the member has finished."""
        return self.member.finished_mask(len(self.index))

    @cached_property
    def genre_affinity(self) -> NDArray[np.float64]:
        """The member's share of watched titles per genre (zeros for a new member)."""
        counts = self.index.genre_matrix[self.member.titles].sum(axis=0).astype(np.float64)
        total = counts.sum()
        return counts / total if total else counts

    def scores(self, name: str) -> Scores | None:
        """The member's scores from the ranker called ``name``; None if there is none."""
        ranker = self.rankers.get(name)
        if ranker is None:
            return None
        if name not in self._scores:
            self._scores[name] = ranker.scores(self.member)
        return self._scores[name]

    def row(
        self,
        row_id: str,
        heading: str,
        source: str,
        titles: NDArray[np.int32],
        values: NDArray[np.float64],
        score: float,
    ) -> Row:
        """A candidate row of the given title indices (recorded for the selector)."""
        ids = self.index.title_ids
        self.row_titles[row_id] = titles
        # tolist() and map() keep this at well under a microsecond per title.
        items = tuple(map(ScoredTitle, [ids[i] for i in titles.tolist()], values.tolist()))
        return Row(row_id, heading, source, items, score)


@dataclass(frozen=True, eq=False)
class PageContext:
    """What a row selector may know beyond the rows: titles' genres, the member's genre
    affinity, the size of the first screen, and the rows' title indices.

    Attributes:
        index: the title index the rows' titles belong to.
        genre_affinity: the member's share of watched titles per genre of ``index.genres``.
        first_screen_rows: rows visible without scrolling.
        first_screen_titles: titles of a row visible without scrolling sideways.
        row_titles: title indices of candidate rows by row id (looked up when absent).
    """

    index: TitleIndex
    genre_affinity: NDArray[np.float64]
    first_screen_rows: int = 4
    first_screen_titles: int = 6
    row_titles: Mapping[str, NDArray[np.int32]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.first_screen_rows < 1:
            raise ValueError(f"first_screen_rows must be >= 1, got {self.first_screen_rows}")
        if self.first_screen_titles < 1:
            raise ValueError(f"first_screen_titles must be >= 1, got {self.first_screen_titles}")

    @classmethod
    def for_rows(
        cls, rows: Sequence[Row], first_screen_rows: int = 4, first_screen_titles: int = 6
    ) -> PageContext:
        """A context knowing only the rows themselves (no genres, no member)."""
        ids = list(dict.fromkeys(item.title_id for row in rows for item in row.items))
        index = TitleIndex.from_titles([Title(t, t) for t in ids])
        return cls(index, np.zeros(0), first_screen_rows, first_screen_titles)

    def titles_of(self, row: Row) -> NDArray[np.int32]:
        """The row's titles as indices; titles outside the index are left out."""
        known = self.row_titles.get(row.row_id)
        if known is not None and len(known) == len(row.items):
            return known
        position = self.index.position
        return np.array(
            [position[i.title_id] for i in row.items if i.title_id in position], dtype=np.int32
        )

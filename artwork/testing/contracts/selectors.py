"""The contract every :class:`~artwork.ranking.base.RowSelector` keeps.

Fixture: ``selector``. The checks build their own rows over twelve titles in two genres.
"""

from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Row, ScoredTitle, Title
from artwork.ranking.base import RowSelector
from artwork.ranking.index import TitleIndex
from artwork.ranking.page_context import PageContext


def row(row_id: str, titles: str, score: float, source: str = "genre") -> Row:
    """A row of one-letter titles, each scored 1."""
    return Row(row_id, row_id, source, tuple(ScoredTitle(t, 1.0) for t in titles), score)


INDEX = TitleIndex.from_titles(
    [Title(t, t.upper(), ("drama",) if t <= "f" else ("comedy",)) for t in "abcdefghijkl"]
)
"""Titles a..l; a-f are drama, g-l comedy."""


def context(rows: int = 2, titles: int = 3) -> PageContext:
    """A context over :data:`INDEX` with an even genre affinity."""
    return PageContext(
        INDEX, np.array([0.5, 0.5]), first_screen_rows=rows, first_screen_titles=titles
    )


ROWS = [
    row("r1", "abcd", 0.9),
    row("r2", "cdef", 0.8),
    row("r3", "ghij", 0.5),
    row("r4", "kl", 0.4, "popularity"),
]


class RowSelectorContract:
    """What every :class:`~artwork.ranking.base.RowSelector` promises."""

    def test_no_rows_make_an_empty_page(self, selector: RowSelector) -> None:
        assert selector.select([], 3, context()) == []

    def test_max_rows_below_one_is_refused(self, selector: RowSelector) -> None:
        with pytest.raises(ValueError, match="max_rows"):
            selector.select(ROWS, 0, context())

    @pytest.mark.parametrize("with_context", [True, False])
    def test_a_page_holds_given_rows_once_with_their_titles_in_order(
        self, selector: RowSelector, with_context: bool
    ) -> None:
        page = selector.select(ROWS, 3, context() if with_context else None)
        ids = [r.row_id for r in page]
        assert 0 < len(page) <= 3 and len(set(ids)) == len(ids)
        assert set(ids) <= {r.row_id for r in ROWS}
        originals = {r.row_id: [i.title_id for i in r.items] for r in ROWS}
        for placed in page:  # titles keep their order (some may be left out)
            shown = [i.title_id for i in placed.items]
            assert shown == [t for t in originals[placed.row_id] if t in shown]

    def test_a_long_enough_page_takes_every_row(self, selector: RowSelector) -> None:
        assert len(selector.select(ROWS, 10, context())) == len(ROWS)

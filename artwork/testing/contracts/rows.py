"""The contract every :class:`~artwork.ranking.base.RowSource` keeps.

Fixtures: ``source`` (the row source) and ``page_request`` (a
:class:`~artwork.ranking.page_context.PageRequest` over fitted rankers).
"""

from __future__ import annotations

import math

from artwork.ranking.base import RowSource
from artwork.ranking.page_context import PageRequest


class RowSourceContract:
    """What every :class:`~artwork.ranking.base.RowSource` promises."""

    def test_rows_hold_at_most_k_distinct_known_titles(
        self, source: RowSource, page_request: PageRequest
    ) -> None:
        known = set(page_request.index.title_ids)
        for k in (1, 3, 10):
            for row in source.rows(page_request, k):
                ids = [item.title_id for item in row.items]
                assert 0 < len(ids) <= k, (row.row_id, len(ids))
                assert len(set(ids)) == len(ids), f"{row.row_id} repeats a title"
                assert set(ids) <= known

    def test_rows_name_their_source_have_unique_ids_and_finite_scores(
        self, source: RowSource, page_request: PageRequest
    ) -> None:
        rows = source.rows(page_request, 5)
        assert len({row.row_id for row in rows}) == len(rows)
        for row in rows:
            assert row.source == source.name
            assert row.heading
            assert math.isfinite(row.score)
            assert all(math.isfinite(item.score) for item in row.items)

    def test_the_same_request_gives_the_same_rows(
        self, source: RowSource, page_request: PageRequest
    ) -> None:
        assert source.rows(page_request, 5) == source.rows(page_request, 5)

    def test_rows_are_recorded_for_the_selector(
        self, source: RowSource, page_request: PageRequest
    ) -> None:
        for row in source.rows(page_request, 5):
            indices = page_request.row_titles[row.row_id]
            ids = [page_request.index.title_ids[i] for i in indices]
            assert ids == [item.title_id for item in row.items]

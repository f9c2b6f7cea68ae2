"""Contract test suites to run over every implementation of an interface (as LensKit ships its
scorer tests): subclass one in your own tests, give it the fixtures it names, and pytest runs
every check on your implementation.

- :class:`RowSourceContract` (:class:`~artwork.ranking.base.RowSource`): fixtures ``source``
  and ``page_request`` (a :class:`~artwork.ranking.page_context.PageRequest` over fitted rankers).
- :class:`TaggerContract` (:class:`~artwork.scoring.tags.Tagger`): fixtures ``tagger`` and
  ``embeddings`` (one row per image of :meth:`TaggerContract.images`, from the tagger's
  embedder).

Example::

    class TestMyRows(RowSourceContract):
        @pytest.fixture
        def source(self) -> RowSource:
            return MyRows()
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.ranking.base import RowSource
from artwork.ranking.page_context import PageRequest
from artwork.scoring.tags import Tagger


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


class TaggerContract:
    """What every :class:`~artwork.scoring.tags.Tagger` promises."""

    @staticmethod
    def images() -> list[Image]:
        """The frames the ``embeddings`` fixture must describe, in order: dark, bright, noise."""
        rng = np.random.default_rng(0)
        return [
            np.full((90, 160, 3), 8, np.uint8),
            np.full((90, 160, 3), 230, np.uint8),
            rng.integers(0, 256, (90, 160, 3), dtype=np.uint8),
        ]

    def test_tags_are_bank_names_above_the_floor_most_confident_first(
        self, tagger: Tagger, embeddings: NDArray[np.float32]
    ) -> None:
        tags = tagger.tag(self.images(), embeddings)
        assert len(tags) == len(self.images())
        for frame in tags:
            assert set(frame) <= set(tagger.bank.names)
            values = list(frame.values())
            assert all(tagger.floor <= v <= 1.0 and v > 0.0 for v in values)
            assert values == sorted(values, reverse=True)

    def test_tags_are_deterministic_and_per_frame(
        self, tagger: Tagger, embeddings: NDArray[np.float32]
    ) -> None:
        images = self.images()
        together = tagger.tag(images, embeddings)
        assert together == tagger.tag(images, embeddings)
        alone = [tagger.tag([image], embeddings[i : i + 1]) for i, image in enumerate(images)]
        assert [a[0] for a in alone] == together

    def test_no_frames_no_tags(self, tagger: Tagger, embeddings: NDArray[np.float32]) -> None:
        assert tagger.tag([], embeddings[:0]) == []

    def test_mismatched_embeddings_are_refused(
        self, tagger: Tagger, embeddings: NDArray[np.float32]
    ) -> None:
        import pytest

        with pytest.raises(ValueError, match="embeddings"):
            tagger.tag(self.images(), embeddings[:1])

    def test_the_name_says_how_tags_were_made(self, tagger: Tagger) -> None:
        assert tagger.name.split(":")[0] == tagger.kind

"""The contract every :class:`~artwork.scoring.tags.Tagger` keeps.

Fixtures: ``tagger`` and ``embeddings`` (one row per image of :meth:`TaggerContract.images`,
from the tagger's embedder).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.scoring.tags import Tagger


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
        with pytest.raises(ValueError, match="embeddings"):
            tagger.tag(self.images(), embeddings[:1])

    def test_the_name_says_how_tags_were_made(self, tagger: Tagger) -> None:
        assert tagger.name.split(":")[0] == tagger.kind

"""The contract every :class:`~artwork.scoring.base.Embedder` keeps.

Fixture: ``embedder``.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as photos

from artwork.domain import Image
from artwork.scoring.base import Embedder


class EmbedderContract:
    """What every :class:`~artwork.scoring.base.Embedder` promises."""

    @staticmethod
    def images() -> list[Image]:
        """Two photos, noise, a black portrait (index 3, whose norm may be 0) and a tiny frame."""
        rng = np.random.default_rng(0)
        return [
            photos.chelsea(),
            photos.coffee(),
            rng.integers(0, 256, (90, 160, 3), dtype=np.uint8),
            np.zeros((240, 100, 3), np.uint8),  # portrait, black
            rng.integers(0, 256, (7, 5, 3), dtype=np.uint8),  # tiny
        ]

    def test_embeddings_have_the_promised_shape_and_unit_norm(self, embedder: Embedder) -> None:
        images = self.images()
        vectors = embedder.embed(images)
        assert vectors.shape == (len(images), embedder.dim) and vectors.dtype == np.float32
        norms = np.linalg.norm(vectors, axis=1)
        assert np.allclose(norms[[0, 1, 2, 4]], 1.0, atol=1e-5)
        assert np.all(np.isfinite(vectors))
        assert embedder.name and isinstance(embedder.name, str)

    def test_embedding_does_not_depend_on_batching(self, embedder: Embedder) -> None:
        images = self.images()
        together = embedder.embed(images)
        alone = np.concatenate([embedder.embed([image]) for image in images])
        assert np.allclose(together, alone, atol=1e-4)
        assert np.allclose(embedder.embed(images), together, atol=1e-6)

    def test_an_empty_batch_gives_an_empty_matrix(self, embedder: Embedder) -> None:
        assert embedder.embed([]).shape == (0, embedder.dim)

    def test_bad_images_are_refused_by_position(self, embedder: Embedder) -> None:
        with pytest.raises(ValueError, match=r"images\[1\] must have dtype uint8"):
            embedder.embed([photos.chelsea(), np.zeros((8, 8, 3), np.float32)])

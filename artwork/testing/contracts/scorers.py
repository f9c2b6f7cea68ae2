"""The contract every :class:`~artwork.scoring.base.FrameScorer` keeps.

Fixture: ``scorer``. Features that are counts rather than values in [0, 1] are named in the
subclass's ``counts``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from skimage import data as photos

from artwork.domain import Image
from artwork.scoring.base import FrameScorer, fit_width


class FrameScorerContract:
    """What every :class:`~artwork.scoring.base.FrameScorer` promises."""

    counts: ClassVar[frozenset[str]] = frozenset()
    """Features that are whole counts >= 0, not values in [0, 1]."""

    @staticmethod
    def images() -> list[Image]:
        """Photos, noise, flat frames, a portrait, a tiny and a one-pixel frame."""
        rng = np.random.default_rng(0)
        return [
            np.ascontiguousarray(fit_width(photos.astronaut(), 320)),
            photos.chelsea(),  # wider than the analysis width
            rng.integers(0, 256, (180, 320, 3), dtype=np.uint8),
            np.zeros((180, 320, 3), np.uint8),
            np.full((320, 180, 3), 255, np.uint8),  # portrait, white
            rng.integers(0, 256, (7, 5, 3), dtype=np.uint8),  # tiny
            np.zeros((1, 1, 3), np.uint8),
        ]

    def test_scores_are_named_floats_in_range(self, scorer: FrameScorer) -> None:
        names = None
        for image in self.images():
            scores = scorer.score(image)
            assert scores and all(isinstance(v, float) and np.isfinite(v) for v in scores.values())
            assert all(0.0 <= v <= 1.0 for k, v in scores.items() if k not in self.counts), scores
            assert all(v >= 0 and v == int(v) for k, v in scores.items() if k in self.counts)
            assert names is None or list(scores) == names, "the same features for every frame"
            names = list(scores)

    def test_scoring_is_deterministic(self, scorer: FrameScorer) -> None:
        # Several calls, each on a fresh copy: a vector path that depends on where an array's
        # memory starts shows up in the last bits of some of them.
        photo = np.ascontiguousarray(fit_width(photos.coffee(), 320))
        first = scorer.score(photo)
        for _ in range(8):
            assert scorer.score(photo.copy()) == first

    def test_bad_images_are_refused(self, scorer: FrameScorer) -> None:
        with pytest.raises(ValueError, match="image must have dtype uint8"):
            scorer.score(np.zeros((10, 10, 3), np.float32))
        with pytest.raises(ValueError, match="image must have shape"):
            scorer.score(np.zeros((10, 10, 4), np.uint8))

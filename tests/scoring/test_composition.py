"""Composition: thirds geometry, spectral-residual saliency on planted blobs, saliency_thirds,
symmetry."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as photos

from artwork.scoring.base import FrameScorer
from artwork.scoring.composition import (
    CompositionScorer,
    saliency_map,
    symmetry,
    thirds_line_closeness,
    thirds_point_closeness,
)

SCORER = CompositionScorer()


def _scene(
    centre: tuple[float, float], rng: np.random.Generator, *, colour: bool = False
) -> np.ndarray:
    """A grassy 320 x 180 field with one disc at ``centre`` (fractions of width and height)."""
    field = np.full((180, 320, 3), (70, 110, 60), np.float64) + rng.normal(0, 6, (180, 320, 3))
    image = np.clip(field, 0, 255).astype(np.uint8)
    x, y = round(centre[0] * 320), round(centre[1] * 180)
    # Red on green at nearly the same luma when ``colour``: only colour makes it stand out.
    cv2.circle(image, (x, y), 14, (240, 40, 40) if colour else (250, 240, 220), -1)
    return image


def test_thirds_geometry() -> None:
    assert thirds_point_closeness(1 / 3, 2 / 3) == pytest.approx(1.0)
    assert thirds_point_closeness(0.5, 0.5) == pytest.approx(0.0)
    assert thirds_point_closeness(0.0, 0.0) == 0.0
    assert 0.0 < thirds_point_closeness(0.4, 0.3) < 1.0
    assert thirds_line_closeness(1 / 3, 0.5) == pytest.approx(1.0)
    assert thirds_line_closeness(0.5, 0.5) == pytest.approx(0.0)
    grid = thirds_point_closeness(np.array([0.3, 0.7]), np.array([0.3, 0.7]))
    assert grid.shape == (2,) and np.all(grid > 0.75)


@pytest.mark.parametrize("colour", [False, True], ids=["bright disc", "isoluminant red disc"])
def test_saliency_peaks_on_an_off_centre_disc(rng: np.random.Generator, colour: bool) -> None:
    saliency = saliency_map(_scene((0.75, 0.3), rng, colour=colour))
    assert saliency.shape == (36, 64) and saliency.dtype == np.float32
    assert float(saliency.min()) >= 0.0 and float(saliency.max()) == pytest.approx(1.0)
    y, x = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    assert abs(x / 64 - 0.75) < 0.08 and abs(y / 36 - 0.3) < 0.12


def test_a_subject_on_a_thirds_point_beats_one_in_the_centre(rng: np.random.Generator) -> None:
    on_thirds = SCORER.score(_scene((2 / 3, 1 / 3), rng))["saliency_thirds"]
    centred = SCORER.score(_scene((0.5, 0.5), rng))["saliency_thirds"]
    at_the_edge = SCORER.score(_scene((0.04, 0.5), rng))["saliency_thirds"]
    assert on_thirds > 0.6 and centred < 0.4 and at_the_edge < 0.3
    assert on_thirds > centred + 0.3


def test_symmetry() -> None:
    photo = cv2.resize(photos.astronaut(), (320, 320), interpolation=cv2.INTER_AREA)
    half = photo[:, :160]
    mirrored = np.ascontiguousarray(np.concatenate([half, half[:, ::-1]], axis=1))
    assert symmetry(mirrored) > 0.95
    assert symmetry(np.ascontiguousarray(photo)) < 0.4


def test_scores_are_in_range_and_flat_frames_have_no_composition(
    rng: np.random.Generator,
) -> None:
    assert isinstance(SCORER, FrameScorer) and CompositionScorer.name == "composition"
    for image in (photos.chelsea(), rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)):
        scores = SCORER.score(image)
        assert set(scores) == {"saliency_thirds", "symmetry"}
        assert all(0.0 <= v <= 1.0 for v in scores.values())
    flat = np.full((180, 320, 3), 90, np.uint8)
    assert SCORER.score(flat) == {"saliency_thirds": 0.0, "symmetry": 0.0}
    assert not saliency_map(flat).any()
    assert SCORER.score(np.zeros((1, 1, 3), np.uint8))["saliency_thirds"] == 0.0


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="width must be >= 8, got 4"):
        saliency_map(photos.chelsea(), width=4)
    with pytest.raises(ValueError, match="image must have dtype uint8"):
        SCORER.score(np.zeros((8, 8, 3), np.float64))

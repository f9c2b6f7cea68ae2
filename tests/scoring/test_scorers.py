"""The contract every frame scorer keeps, the default set the extractor runs, and lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data as photos

from artwork.config import Settings
from artwork.scoring.base import FrameScorer, fit_width
from artwork.scoring.quality import QUALITY_INPUTS, is_bad_frame, quality
from artwork.scoring.registry import FRAME_SCORERS, default_frame_scorers

COUNTS = {"face_count"}
"""Features that are counts, not in [0, 1]."""


@pytest.fixture(params=list(FRAME_SCORERS))
def scorer(request: pytest.FixtureRequest, tmp_path: Path) -> FrameScorer:
    return FRAME_SCORERS[request.param](Settings(home=tmp_path))


def _images(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        np.ascontiguousarray(fit_width(photos.astronaut(), 320)),
        photos.chelsea(),  # wider than the analysis width
        rng.integers(0, 256, (180, 320, 3), dtype=np.uint8),
        np.zeros((180, 320, 3), np.uint8),
        np.full((320, 180, 3), 255, np.uint8),  # portrait, white
        rng.integers(0, 256, (7, 5, 3), dtype=np.uint8),  # tiny
        np.zeros((1, 1, 3), np.uint8),
    ]


def test_scores_are_named_floats_in_range(scorer: FrameScorer, rng: np.random.Generator) -> None:
    names = None
    for image in _images(rng):
        scores = scorer.score(image)
        assert scores and all(isinstance(v, float) and np.isfinite(v) for v in scores.values())
        assert all(0.0 <= v <= 1.0 for k, v in scores.items() if k not in COUNTS), scores
        assert all(v >= 0 and v == int(v) for k, v in scores.items() if k in COUNTS)
        assert names is None or list(scores) == names, "the same features for every frame"
        names = list(scores)


def test_scoring_is_deterministic(scorer: FrameScorer) -> None:
    photo = np.ascontiguousarray(fit_width(photos.coffee(), 320))
    assert scorer.score(photo) == scorer.score(photo.copy())


def test_bad_images_are_refused(scorer: FrameScorer) -> None:
    with pytest.raises(ValueError, match="image must have dtype uint8"):
        scorer.score(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="image must have shape"):
        scorer.score(np.zeros((10, 10, 4), np.uint8))


def test_the_default_scorers_describe_a_frame(tmp_path: Path) -> None:
    scorers = default_frame_scorers(Settings(home=tmp_path))
    assert [s.name for s in scorers] == ["quality", "text", "faces", "composition"]
    photo = np.ascontiguousarray(fit_width(photos.astronaut(), 320))
    merged: dict[str, float] = {}
    for scorer in scorers:
        scores = scorer.score(photo)
        assert not set(scores) & set(merged), "no two scorers write the same feature"
        merged |= scores
    assert set(merged) >= QUALITY_INPUTS
    expected = {"text_heaviness", "face_count", "face_area", "face_thirds", "face_frontal"}
    assert expected | {"saliency_thirds", "symmetry", "noise", "motion_blur"} <= set(merged)
    assert is_bad_frame(merged) is None and 0.5 < quality(merged) <= 1.0
    assert merged["face_count"] == 1.0


def test_importing_scoring_and_candidates_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import artwork.scoring.registry, artwork.scoring.tags, artwork.scoring.faces\n"
        "import artwork.candidates.select, artwork.candidates.crops\n"
        "heavy = {'torch', 'torchvision', 'open_clip'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

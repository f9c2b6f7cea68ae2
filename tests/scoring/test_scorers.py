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
from artwork.testing.contracts import FrameScorerContract


class TestEveryFrameScorer(FrameScorerContract):
    counts = frozenset({"face_count"})

    @pytest.fixture(params=list(FRAME_SCORERS))
    def scorer(self, request: pytest.FixtureRequest, tmp_path: Path) -> FrameScorer:
        return FRAME_SCORERS[request.param](Settings(home=tmp_path))


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

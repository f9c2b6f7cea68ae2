"""The extractor end to end: planted ground truth, a dark clip, a short clip, real footage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from artwork.candidates.extractor import extract
from artwork.config import Settings
from artwork.domain import Extraction
from artwork.errors import VideoError
from artwork.scoring.base import Embedder, FrameScorer
from artwork.scoring.quality import FEATURES, QualityScorer
from artwork.testing.synthetic import Segment, SyntheticTruth, write_synthetic_video


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", embedder="mobilenet_v2")


def _check_candidates(extraction: Extraction, embedder: Embedder, size: tuple[int, int]) -> None:
    assert extraction.embedder == embedder.name
    times = [c.time_s for c in extraction.candidates]
    assert len(set(times)) == len(times)
    for candidate in extraction.candidates:
        assert candidate.image.shape == (size[1], size[0], 3)
        assert candidate.image.dtype == np.uint8
        assert candidate.embedding.shape == (embedder.dim,)
        assert float(np.linalg.norm(candidate.embedding)) == pytest.approx(1.0, abs=1e-5)
        assert set(FEATURES) <= set(candidate.scores)
        assert 0.0 <= candidate.score <= 1.0
        assert candidate.explanation.startswith("rank ")
        assert candidate.frame_index == round(candidate.time_s * extraction.video.fps)
    scores = [c.score for c in extraction.candidates]
    assert scores[0] == max(scores), "the first candidate has the best quality"


def test_planted_bad_frames_are_never_chosen(
    synthetic: SyntheticTruth, settings: Settings, embedder: Embedder
) -> None:
    calls: list[tuple[int, int]] = []
    extraction = extract(
        synthetic.path, settings, embedder, progress=lambda d, t: calls.append((d, t))
    )
    assert extraction.frames_analysed == 40
    _check_candidates(extraction, embedder, (320, 180))
    fades = synthetic.ranges("fade")
    for candidate in extraction.candidates:
        kind = synthetic.kind_at(candidate.time_s)
        assert kind in ("shot", "fade"), f"{candidate.time_s} s lies in a {kind} segment"
        for start, end in fades:  # the darker half of a fade is no artwork either
            assert not (start + (end - start) / 2 <= candidate.time_s < end)
    # Four shots, each its own moment: one candidate per shot, K=5 notwithstanding.
    shots = [s for s in synthetic.segments if s.kind == "shot"]
    hit = {i for c in extraction.candidates for i, s in enumerate(shots) if s.contains(c.time_s)}
    assert len(extraction.candidates) == len(hit) == len(shots)
    assert "bad (" in extraction.candidates[0].explanation
    assert calls[-1] == (40, 40)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_dark_clip_still_gets_artwork(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    # Nothing but blur and black: every frame is bad, yet an editor gets something to judge.
    plan = [Segment("black", 1.0), Segment("blur", 1.0), Segment("black", 1.0)]
    truth = write_synthetic_video(tmp_path / "dark.mp4", plan=plan)
    extraction = extract(truth.path, settings, embedder)
    assert 1 <= len(extraction.candidates) <= 3
    assert all("Fallback" in c.explanation for c in extraction.candidates)
    assert truth.kind_at(extraction.candidates[0].time_s) == "blur"  # the least bad frames


def test_a_clip_under_one_second(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    plan = [Segment("shot", 0.4), Segment("shot", 0.4)]
    truth = write_synthetic_video(tmp_path / "short.mp4", plan=plan)
    extraction = extract(truth.path, settings, embedder)
    assert extraction.frames_analysed == 5
    assert 1 <= len(extraction.candidates) <= 5
    _check_candidates(extraction, embedder, (320, 180))


def test_settings_shape_the_analysis(
    synthetic: SyntheticTruth, settings: Settings, embedder: Embedder
) -> None:
    few = settings.model_copy(update={"max_sampled_frames": 12, "variants_per_title": 2})
    extraction = extract(synthetic.path, few, embedder)
    assert extraction.frames_analysed == 12
    assert len(extraction.candidates) == 2


def test_bad_input_raises_before_any_work(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    text = tmp_path / "x.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoError, match="not a video"):
        extract(text, settings, embedder)


@pytest.mark.parametrize(("name", "size"), [("bigbuckbunny", (1280, 720)), ("bikes", (640, 272))])
def test_real_clips_give_k_distinct_spread_out_variants(
    clip_path: Callable[[str], Path],
    settings: Settings,
    embedder: Embedder,
    name: str,
    size: tuple[int, int],
) -> None:
    extraction = extract(clip_path(name), settings, embedder)
    k = settings.variants_per_title
    assert len(extraction.candidates) == k
    _check_candidates(extraction, embedder, size)
    vectors = np.stack([c.embedding for c in extraction.candidates])
    similarity = vectors @ vectors.T
    assert similarity[~np.eye(k, dtype=bool)].max() <= 0.92
    times = sorted(c.time_s for c in extraction.candidates)
    duration = extraction.video.duration_s
    assert times[-1] - times[0] >= duration / 2, "variants should span the video"
    # The gap is 1 s, shrunk to (span of the samples) / 2K on short clips: ~0.5 s for 5.3 s.
    assert min(np.diff(times)) >= 0.9 * min(1.0, duration / (2 * k))


class _Constant(FrameScorer):
    name = "constant"

    def score(self, image: np.ndarray) -> dict[str, float]:
        return {"constant": 0.5}


def test_extra_scorers_are_merged_and_nothing_is_written(
    synthetic: SyntheticTruth,
    settings: Settings,
    embedder: Embedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    folders = (tmp_path, synthetic.path.parent)
    before = [sorted(folder.rglob("*")) for folder in folders]
    few = settings.model_copy(update={"max_sampled_frames": 8, "variants_per_title": 2})
    extraction = extract(synthetic.path, few, embedder, scorers=[QualityScorer(), _Constant()])
    assert all(c.scores["constant"] == 0.5 for c in extraction.candidates)
    assert "constant 0.50" in extraction.candidates[0].explanation
    assert [sorted(folder.rglob("*")) for folder in folders] == before
    with pytest.raises(ValueError, match="scorers must hold at least one"):
        extract(synthetic.path, few, embedder, scorers=[])

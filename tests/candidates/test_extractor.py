"""The extractor end to end: planted ground truth, credits and the tail, a dark clip, a short
clip, real footage, bounded memory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from artwork.candidates.extractor import extract, finish_extraction, scan_video
from artwork.config import Settings
from artwork.domain import Extraction
from artwork.errors import VideoError
from artwork.scoring.base import Embedder, FrameScorer
from artwork.scoring.quality import FEATURES, QualityScorer
from artwork.testing.synthetic import Segment, SyntheticTruth, write_synthetic_video
from artwork.video.frame_detector import FrameShotDetector
from artwork.video.keyframe_detector import KeyframeShotDetector


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
        assert candidate.scores["transition"] == 0.0
        assert 0.0 <= candidate.score <= 1.0
        assert candidate.explanation.startswith("rank ")
        assert candidate.frame_index == round(candidate.time_s * extraction.video.fps)
    scores = [c.score for c in extraction.candidates]
    assert scores[0] == max(scores), "the first candidate is the best"


def test_planted_bad_frames_are_never_chosen(
    synthetic: SyntheticTruth, settings: Settings, embedder: Embedder
) -> None:
    calls: list[tuple[int, int]] = []
    extraction = extract(
        synthetic.path, settings, embedder, progress=lambda d, t: calls.append((d, t))
    )
    assert extraction.detector == "frames"  # 10 s of 320x180: decoding every frame is cheap
    assert extraction.frames_decoded == synthetic.frame_count
    assert extraction.frames_analysed == 36  # every 0.25 s of the first 90%
    assert extraction.shots == 6  # shot, black, shot, blur, shot + fade, shot
    _check_candidates(extraction, embedder, (320, 180))
    for candidate in extraction.candidates:
        kind = synthetic.kind_at(candidate.time_s)
        assert kind == "shot", f"{candidate.time_s} s lies in a {kind} segment"
        assert candidate.time_s < 9.0, "the last 10% is never sampled"
    # Four shots, each its own moment: one candidate per shot, K=5 notwithstanding.
    shots = [s for s in synthetic.segments if s.kind == "shot"]
    hit = {i for c in extraction.candidates for i, s in enumerate(shots) if s.contains(c.time_s)}
    assert len(extraction.candidates) == len(hit) == len(shots)
    assert len({c.shot for c in extraction.candidates}) == len(shots)
    assert "transition" in extraction.candidates[0].explanation  # the fade's frames were dropped
    assert calls[-1] == (100, 100)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_the_keyframe_detector_gives_one_candidate_per_shot(
    synthetic: SyntheticTruth, settings: Settings, embedder: Embedder
) -> None:
    extraction = extract(synthetic.path, settings, embedder, detector=KeyframeShotDetector())
    assert extraction.detector == "keyframes"
    assert extraction.frames_decoded < synthetic.frame_count
    shots = [s for s in synthetic.segments if s.kind == "shot"]
    for candidate in extraction.candidates:
        assert synthetic.kind_at(candidate.time_s) == "shot"
    assert len({c.shot for c in extraction.candidates}) == len(extraction.candidates) <= len(shots)


def test_samples_scored_beside_the_scan_give_the_same_extraction(
    synthetic: SyntheticTruth, settings: Settings, embedder: Embedder
) -> None:
    """The keyframe detector hands its samples over before it refines: scored in a second
    thread meanwhile, they give what scoring them after the scan gives."""
    handed: list[threading.Thread] = []

    def deferred() -> Embedder:
        handed.append(threading.current_thread())
        return embedder

    early = scan_video(synthetic.path, settings, detector=KeyframeShotDetector(), embedder=deferred)
    assert early.early is not None
    assert early.early.result().samples is early.scan.samples
    assert handed and handed[0] is not threading.current_thread()
    late = scan_video(synthetic.path, settings, detector=KeyframeShotDetector())
    assert late.early is None
    first = finish_extraction(early, settings, embedder)
    second = finish_extraction(late, settings, embedder)
    assert [(c.time_s, c.tags) for c in first.candidates] == [
        (c.time_s, c.tags) for c in second.candidates
    ]
    for a, b in zip(first.candidates, second.candidates, strict=True):
        # Scores differ in the last bits from one run to the next even in one thread (OpenCV).
        assert a.score == pytest.approx(b.score, rel=1e-6)
        assert a.scores == pytest.approx(b.scores, rel=1e-6)
        np.testing.assert_allclose(a.embedding, b.embedding, atol=1e-6)
        np.testing.assert_array_equal(a.image, b.image)
    # The every-frame detector knows its samples only at the end: they are scored after it.
    assert (
        scan_video(synthetic.path, settings, detector=FrameShotDetector(), embedder=deferred).early
        is None
    )


def test_credits_and_the_tail_are_left_out(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    plan = [
        Segment("shot", 1.5),
        Segment("credits", 1.5),  # a title card in the middle: text-heavy
        Segment("shot", 1.5),
        Segment("shot", 0.5),  # the last 10%: the ending, a spoiler
    ]
    truth = write_synthetic_video(tmp_path / "credits.mp4", plan=plan)
    extraction = extract(truth.path, settings, embedder)
    kinds = [truth.kind_at(c.time_s) for c in extraction.candidates]
    assert kinds and set(kinds) == {"shot"}
    assert all(c.time_s < 4.5 for c in extraction.candidates)
    assert "text" in extraction.candidates[0].explanation
    # With the tail allowed, the ending can be chosen.
    everything = settings.model_copy(update={"exclude_tail_fraction": 0.0})
    allowed = extract(truth.path, everything, embedder)
    assert any(c.time_s >= 4.5 for c in allowed.candidates)


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
    assert extraction.shots == 2
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


@pytest.mark.slow
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
    assert times[-1] < 0.9 * duration
    assert times[-1] - times[0] >= duration / 3, "variants should span the video"
    assert all(c.tags for c in extraction.candidates) or name == "bikes"


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


def _peak_rss_growth(work: Callable[[], object]) -> int:
    """How far the resident memory rose above its level at the start while ``work`` ran."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        pytest.skip("needs Linux's /proc to read the resident memory")
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        return int(statm.read_text().split()[1]) * page

    start, peak = rss(), [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            done.wait(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        work()
    finally:
        done.set()
        watcher.join()
    return max(peak[0], rss()) - start


@pytest.mark.slow
@pytest.mark.parametrize("detector", [FrameShotDetector(), KeyframeShotDetector()])
def test_memory_does_not_grow_with_the_length_of_the_video(
    tmp_path_factory: pytest.TempPathFactory,
    settings: Settings,
    embedder: Embedder,
    detector: FrameShotDetector | KeyframeShotDetector,
) -> None:
    # 12 s and 96 s of 1.5-second shots. Holding every frame of the long one at the analysis
    # width would take 2,400 x 173 kB = 415 MB; the samples are capped and the rest streams.
    folder = tmp_path_factory.mktemp("long")
    capped = settings.model_copy(update={"max_sampled_frames": 8})
    growth = []
    for shots in (8, 64):
        plan = [Segment("shot", 1.5) for _ in range(shots)]
        path = write_synthetic_video(folder / f"shots-{shots}.mp4", plan=plan, seed=shots).path
        extract(path, capped, embedder, detector=detector)  # warm up allocators and caches

        def run(path: Path = path) -> Extraction:
            return extract(path, capped, embedder, detector=detector)

        growth.append(_peak_rss_growth(run))
    short, long = growth
    assert long < short + 40_000_000, f"peak growth {short / 1e6:.0f} MB -> {long / 1e6:.0f} MB"

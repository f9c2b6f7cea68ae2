"""The contract every :class:`~artwork.video.shots.ShotDetector` keeps (PySceneDetect's
``ALL_DETECTORS`` idea): on the synthetic video it finds every planted cut within one frame and
nothing else, finds the fade, samples only before the excluded tail, never more than asked, at
the analysis width.

Fixtures: ``detector`` and ``synthetic`` (a
:func:`~artwork.testing.synthetic.write_synthetic_video` clip with its ground truth).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from artwork.domain import VideoInfo
from artwork.errors import VideoError
from artwork.testing.synthetic import SyntheticTruth, write_synthetic_video
from artwork.video.decode import probe
from artwork.video.shots import SamplingPlan, ShotDetector


def plan_for(info: VideoInfo, *, tail: float = 0.1, max_frames: int = 240) -> SamplingPlan:
    """Samples every 0.25 s at 160 px wide, up to ``max_frames``, before the last ``tail``."""
    return SamplingPlan(
        width=160, interval_s=0.25, max_frames=max_frames, end_s=info.duration_s * (1 - tail)
    )


def frame_numbers(times: tuple[float, ...], fps: float) -> list[int]:
    return [round(t * fps) for t in times]


def within_a_frame(found: list[int], truth: list[int]) -> bool:
    return len(found) == len(truth) and all(
        abs(a - b) <= 1 for a, b in zip(found, truth, strict=True)
    )


class ShotDetectorContract:
    """What every :class:`~artwork.video.shots.ShotDetector` promises."""

    def test_planted_cuts_and_fade_are_found(
        self, detector: ShotDetector, synthetic: SyntheticTruth
    ) -> None:
        info = probe(synthetic.path)
        scan = detector.scan(synthetic.path, info, plan_for(info))
        found = frame_numbers(scan.shots.cuts_s, synthetic.fps)
        assert within_a_frame(found, frame_numbers(synthetic.cuts_s, synthetic.fps)), found
        [(fade_start, fade_end)] = synthetic.ranges("fade")
        [fade] = scan.shots.transitions
        assert fade.kind == "fade"
        assert abs(fade.start_s - fade_start) <= 1.5 / synthetic.fps
        assert abs(fade.end_s - fade_end) <= 1.5 / synthetic.fps
        # shot, black, shot, blur, shot (fading out), shot
        assert len(scan.shots.shots) == 6
        assert scan.frames_decoded >= len(scan.samples) > 0

    def test_samples_respect_the_plan(
        self, detector: ShotDetector, synthetic: SyntheticTruth
    ) -> None:
        info = probe(synthetic.path)
        plan = plan_for(info, tail=0.3, max_frames=12)
        scan = detector.scan(synthetic.path, info, plan)
        assert 0 < len(scan.samples) <= 12
        times = [f.time_s for f in scan.samples]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert max(times) < plan.end_s
        assert all(f.image.shape[1] <= 160 for f in scan.samples)

    def test_progress_reaches_the_end(
        self, detector: ShotDetector, synthetic: SyntheticTruth
    ) -> None:
        info = probe(synthetic.path)
        seen: list[float] = []
        detector.scan(synthetic.path, info, plan_for(info), progress=seen.append)
        assert seen and seen[-1] == pytest.approx(info.duration_s)
        assert seen == sorted(seen)

    def test_an_undecodable_file_raises(self, detector: ShotDetector, tmp_path: Path) -> None:
        source = write_synthetic_video(tmp_path / "ok.mp4", seconds=1.0)
        info = probe(source.path)
        data = bytearray(source.path.read_bytes())
        at = data.find(b"mdat")
        size = int.from_bytes(data[at - 4 : at], "big")
        data[at + 4 : at - 4 + size] = bytes(size - 8)
        broken = tmp_path / "zeros.mp4"
        broken.write_bytes(bytes(data))
        with pytest.raises(VideoError, match=r"no (decodable frames|(key)?frame decoded)"):
            detector.scan(broken, info, plan_for(info))

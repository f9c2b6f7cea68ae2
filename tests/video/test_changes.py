"""The change tracker on frame sequences built in memory: cuts, fades, dissolves, and what is
none of them (camera motion, a flash)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from artwork.domain import Image
from artwork.video.changes import (
    ChangeParams,
    Changes,
    ChangeTracker,
    content_distance,
    signature,
)

FPS = 25.0


def _picture(seed: int, width: int = 400, height: int = 224) -> Image:
    """A textured colourful picture, wider than a frame so it can be panned across."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (7, 12, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    detail = rng.integers(-30, 31, (height, width, 1))
    return np.clip(image.astype(np.int16) + detail, 0, 255).astype(np.uint8)


def _frame(picture: Image, offset: int = 0) -> Image:
    return np.ascontiguousarray(picture[:, offset : offset + 160])


def _track(frames: Sequence[Image]) -> Changes:
    tracker = ChangeTracker(FPS)
    for i, frame in enumerate(frames):
        tracker.push(i / FPS, signature(frame))
    return tracker.finish()


def _index(time_s: float) -> int:
    return round(time_s * FPS)


def test_a_hard_cut_is_found_to_the_frame() -> None:
    a, b = _picture(1), _picture(2)
    frames = [_frame(a, i) for i in range(30)] + [_frame(b, i) for i in range(30)]
    changes = _track(frames)
    assert [_index(t) for t in changes.cuts_s] == [30]
    assert changes.transitions == ()
    assert changes.frames == 60


def _fade_through_black(*, ramp: int, black: int, hold: int) -> list[Image]:
    """``hold`` frames of one picture, a fade out over ``ramp`` frames, ``black`` black
    frames, a fade in over ``ramp - 1`` frames and ``hold`` frames of another picture."""
    a, b = _frame(_picture(1), 40), _frame(_picture(2), 40)
    out = [(a * (1 - k / ramp)).astype(np.uint8) for k in range(1, ramp + 1)]
    into = [(b * (k / ramp)).astype(np.uint8) for k in range(1, ramp)]
    return [a] * hold + out + [np.zeros_like(a)] * black + into + [b] * hold


def test_a_fade_through_black_is_one_transition_and_no_cut() -> None:
    frames = _fade_through_black(ramp=12, black=5, hold=20)
    changes = _track(frames)
    assert changes.cuts_s == ()
    [fade] = changes.transitions
    assert fade.kind == "fade"
    assert abs(_index(fade.start_s) - 20) <= 1  # first darkened frame
    assert abs(_index(fade.end_s) - (20 + 12 + 5 + 11)) <= 1  # first full frame after


@pytest.mark.parametrize("phase", [0, 1, 2, 3])
def test_a_fade_seen_through_every_fourth_frame_keeps_its_edges(phase: int) -> None:
    # I- and P-frames only: the frames at a fade's edges are skipped as often as not; the
    # luma ramp carried on from the frames kept places the edges within a frame.
    frames = _fade_through_black(ramp=24, black=6, hold=30)
    tracker = ChangeTracker(FPS)
    for i in range(phase, len(frames), 4):
        tracker.push(i / FPS, signature(frames[i]))
    changes = tracker.finish()
    assert changes.cuts_s == ()
    [fade] = changes.transitions
    assert fade.kind == "fade"
    assert abs(_index(fade.start_s) - 30) <= 1  # first darkened frame
    assert abs(_index(fade.end_s) - (30 + 24 + 6 + 23)) <= 1  # first full frame after


def test_a_cut_stands_out_from_the_preceding_second_however_sparse_the_frames() -> None:
    # Fast camera motion, then a calm second, then a cut, seen through every fourth frame:
    # the distances a cut must stand out from are the calm second's, not the last 25
    # frames' (which would reach back four seconds into the motion).
    a, b = _picture(5, width=1400), _picture(6)
    fast = [_frame(a, 10 * i) for i in range(75)]
    calm = [_frame(a, 750 + i // 4) for i in range(25)]
    frames = fast + calm + [_frame(b, i) for i in range(25)]
    tracker = ChangeTracker(FPS)
    for i in range(0, len(frames), 4):
        tracker.push(i / FPS, signature(frames[i]))
    changes = tracker.finish()
    assert [_index(t) for t in changes.cuts_s] == [100]


def test_a_fade_out_then_a_cut_keeps_the_cut() -> None:
    a, b = _picture(3), _picture(4)
    out = [(_frame(a) * (1 - k / 10)).astype(np.uint8) for k in range(1, 11)]
    frames = [_frame(a)] * 20 + out + [_frame(b)] * 20
    changes = _track(frames)
    assert [_index(t) for t in changes.cuts_s] == [30]
    [fade] = changes.transitions
    assert fade.kind == "fade" and abs(_index(fade.start_s) - 20) <= 1


def test_a_dissolve_is_found_and_is_not_a_cut() -> None:
    a, b = _frame(_picture(5)), _frame(_picture(6))
    mix = [cv2.addWeighted(a, 1 - k / 21, b, k / 21, 0.0) for k in range(1, 21)]  # 20 frames, 0.8 s
    frames = [a] * 25 + mix + [b] * 25
    changes = _track(frames)
    assert changes.cuts_s == ()
    [dissolve] = changes.transitions
    assert dissolve.kind == "dissolve"
    assert abs(_index(dissolve.start_s) - 25) <= 2
    assert abs(_index(dissolve.end_s) - 45) <= 2


def test_camera_motion_is_neither_cut_nor_dissolve() -> None:
    picture = _picture(7)
    frames = [_frame(picture, 3 * i) for i in range(80)]  # 3 px a frame, 240 px in all
    changes = _track(frames)
    assert changes.cuts_s == () and changes.transitions == ()


def test_a_one_frame_flash_gives_at_most_one_cut() -> None:
    a = _frame(_picture(8))
    white = np.full_like(a, 255)
    changes = _track([a] * 20 + [white] + [a] * 20)
    assert len(changes.cuts_s) <= 1


def test_content_distance_ignores_the_colour_of_near_black_pixels() -> None:
    rng = np.random.default_rng(0)
    dark_a = rng.integers(0, 6, (36, 64, 3), dtype=np.uint8)
    dark_b = rng.integers(0, 6, (36, 64, 3), dtype=np.uint8)
    bright = cv2.resize(_frame(_picture(9)), (64, 36), interpolation=cv2.INTER_AREA)
    assert content_distance(signature(dark_a), signature(dark_b)) < 5
    assert content_distance(signature(dark_a), signature(bright)) > 27
    assert content_distance(signature(bright), signature(bright)) == 0


def test_params_and_pushes_are_checked() -> None:
    with pytest.raises(ValueError, match="cut_threshold must be > 0, got 0"):
        ChangeParams(cut_threshold=0)
    with pytest.raises(ValueError, match="dissolve_linearity must be in"):
        ChangeParams(dissolve_linearity=1.5)
    with pytest.raises(ValueError, match="fps must be > 0, got 0"):
        ChangeTracker(0)
    tracker = ChangeTracker(FPS)
    tracker.push(1.0, signature(_frame(_picture(1))))
    with pytest.raises(ValueError, match="time_s must increase"):
        tracker.push(1.0, signature(_frame(_picture(1))))

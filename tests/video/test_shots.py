"""Shot lists (boundaries, shot lookup, transition scores), sampling plans and the sample grid."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.domain import Frame
from artwork.video.shots import SampleGrid, SamplingPlan, Shot, ShotList, Transition


def test_cuts_and_transitions_make_the_shots() -> None:
    shots = ShotList(
        duration_s=20.0,
        cuts_s=(4.0, 12.0),
        transitions=(Transition("dissolve", 7.0, 8.0), Transition("fade", 11.0, 12.0)),
    )
    # The dissolve ends a shot in its middle; the fade ends at the cut that follows it.
    assert shots.boundaries_s == (4.0, 7.5, 12.0)
    assert shots.shots == (
        Shot(0, 0.0, 4.0),
        Shot(1, 4.0, 7.5),
        Shot(2, 7.5, 12.0),
        Shot(3, 12.0, 20.0),
    )
    assert [shots.shot_at(t) for t in (0.0, 3.99, 4.0, 7.4, 7.6, 12.0, 19.9)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
    ]
    assert shots.transition_at(7.2) == shots.transition_at(11.5) == 1.0
    assert shots.transition_at(8.0) == shots.transition_at(3.0) == 0.0
    assert shots.transition_at(8.2, margin_s=0.25) == 1.0


def test_approximate_boundaries_separate_shots_but_are_no_cuts() -> None:
    shots = ShotList(duration_s=10.0, cuts_s=(2.0,), approximate_s=(6.0,))
    assert shots.boundaries_s == (2.0, 6.0)
    assert [shots.shot_at(t) for t in (1.0, 3.0, 7.0)] == [0, 1, 2]


def test_a_video_without_boundaries_is_one_shot() -> None:
    shots = ShotList(duration_s=5.0)
    assert shots.shots == (Shot(0, 0.0, 5.0),)
    assert shots.shot_at(4.0) == 0


def _frame(time_s: float) -> Frame:
    return Frame(round(time_s * 25), time_s, np.zeros((2, 2, 3), np.uint8))


def test_the_grid_keeps_the_frame_nearest_each_time() -> None:
    grid = SampleGrid([1.0, 2.0, 3.0])
    for t in (0.0, 0.9, 1.3, 1.9, 2.2, 5.0):
        grid.offer(_frame(t))
    assert [f.time_s for f in grid.frames()] == [0.9, 1.9, 2.2]


def test_sparse_frames_serve_several_times_once() -> None:
    grid = SampleGrid([1.0, 2.0, 3.0, 4.0])
    for t in (0.0, 10.0):
        grid.offer(_frame(t))
    assert [f.time_s for f in grid.frames()] == [0.0, 10.0]
    tolerant = SampleGrid([1.0, 2.0], tolerance_s=0.5)
    tolerant.offer(_frame(5.0))
    assert tolerant.frames() == ()
    with pytest.raises(ValueError, match="times_s must increase"):
        SampleGrid([2.0, 1.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, "width must be >= 1, got 0"),
        ({"interval_s": 0.0}, "interval_s must be > 0, got 0.0"),
        ({"max_frames": 0}, "max_frames must be >= 1, got 0"),
        ({"end_s": 0.0}, "end_s must be > 0, got 0.0"),
    ],
)
def test_sampling_plans_name_the_bad_argument(kwargs: dict[str, float], message: str) -> None:
    arguments: dict[str, float] = {"width": 320, "interval_s": 0.25, "max_frames": 10, "end_s": 9}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        SamplingPlan(**arguments)  # type: ignore[arg-type]

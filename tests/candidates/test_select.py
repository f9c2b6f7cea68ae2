"""Selection on hand-made scored frames: bad frames, duplicates, diversity, gaps, fallback."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.candidates.select import Selection, SelectionParams, select_frames
from artwork.domain import Frame, ScoredFrame
from artwork.scoring.quality import quality

GOOD = {
    "sharpness": 0.8,
    "exposure": 1.0,
    "contrast": 0.6,
    "colourfulness": 0.5,
    "brightness": 0.45,
    "uniformity": 0.2,
}
BLACK = GOOD | {"brightness": 0.0, "sharpness": 0.0, "uniformity": 1.0, "exposure": 0.0}
BLURRY = GOOD | {"sharpness": 0.02}


def _unit(vector: list[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return (array / np.linalg.norm(array)).astype(np.float32)


def _axis(i: int, dim: int = 8) -> np.ndarray:
    return _unit(np.eye(dim, dtype=np.float32)[i])


def _frame(
    time_s: float,
    embedding: np.ndarray,
    scores: dict[str, float] = GOOD,
    boost: float = 0.0,
) -> ScoredFrame:
    scores = dict(scores) | {"sharpness": min(1.0, scores["sharpness"] + boost)}
    image = np.zeros((4, 4, 3), np.uint8)
    return ScoredFrame(
        frame=Frame(index=round(time_s * 25), time_s=time_s, image=image),
        scores=scores,
        quality=quality(scores),
        embedding=embedding,
    )


def _times(selection: Selection) -> list[float]:
    return [pick.frame.frame.time_s for pick in selection.picks]


def test_bad_frames_are_never_picked_and_are_counted() -> None:
    frames = [
        _frame(0.0, _axis(0), BLACK),
        _frame(2.0, _axis(1)),
        _frame(4.0, _axis(2), BLURRY),
        _frame(6.0, _axis(3), BLACK),
        _frame(8.0, _axis(4)),
    ]
    selection = select_frames(frames, k=5)
    assert sorted(_times(selection)) == [2.0, 8.0]  # fewer than K: no padding with bad ones
    assert dict(selection.rejected) == {"black": 2, "blurry": 1}
    assert not selection.fallback


def test_near_duplicates_collapse_to_the_best_one() -> None:
    frames = [
        _frame(0.0, _axis(0)),
        _frame(2.0, _unit([1, 0.1, 0, 0, 0, 0, 0, 0]), boost=0.1),  # cos 0.995 to t=0, better
        _frame(4.0, _unit([1, 0, 0.1, 0, 0, 0, 0, 0])),
        _frame(6.0, _axis(1)),
    ]
    selection = select_frames(frames, k=4)
    assert _times(selection) == [2.0, 6.0]
    assert selection.duplicates == 2


def test_duplicate_threshold_is_respected() -> None:
    base = _axis(0)
    close = _unit([1, 0.5, 0, 0, 0, 0, 0, 0])  # cos 0.894
    frames = [_frame(0.0, base, boost=0.1), _frame(5.0, close)]
    assert len(select_frames(frames, k=2).picks) == 2
    strict = SelectionParams(duplicate_threshold=0.85)
    assert len(select_frames(frames, k=2, params=strict).picks) == 1


def test_mmr_prefers_a_different_frame_over_a_slightly_better_similar_one() -> None:
    frames = [
        _frame(0.0, _axis(0), boost=0.2),
        _frame(3.0, _unit([1, 0.6, 0, 0, 0, 0, 0, 0]), boost=0.05),  # similar, a bit better
        _frame(6.0, _axis(2)),  # different, a bit worse
    ]
    selection = select_frames(frames, k=2)
    assert _times(selection) == [0.0, 6.0]
    assert "MMR" in selection.picks[1].explanation
    # With quality alone (lambda 1) the similar, better frame wins.
    greedy = select_frames(frames, k=2, params=SelectionParams(mmr_lambda=1.0))
    assert _times(greedy) == [0.0, 3.0]


def test_picks_keep_the_minimum_gap() -> None:
    frames = [_frame(t, _axis(i % 8), boost=0.01 * i) for i, t in enumerate(np.arange(0, 20, 0.25))]
    selection = select_frames(frames, k=5, params=SelectionParams(duplicate_threshold=1.0))
    times = sorted(_times(selection))
    assert len(times) == 5
    assert min(np.diff(times)) >= 1.0
    assert selection.too_close > 0


def test_the_gap_shrinks_for_short_videos() -> None:
    # 2 s of frames, K=5: a 1 s gap would allow 3 picks; the gap shrinks to 0.2 s.
    frames = [_frame(t, _axis(i)) for i, t in enumerate([0.1, 0.4, 0.8, 1.2, 1.6, 1.9])]
    assert len(select_frames(frames, k=5).picks) == 5


def test_weak_frames_do_not_pad_the_list() -> None:
    dim = GOOD | {"exposure": 0.1, "sharpness": 0.15, "contrast": 0.05, "colourfulness": 0.05}
    frames = [_frame(0.0, _axis(0)), _frame(5.0, _axis(1), dim)]
    selection = select_frames(frames, k=2)
    assert _times(selection) == [0.0]
    assert selection.weak == 1


def test_all_bad_frames_fall_back_to_the_best_few() -> None:
    frames = [_frame(float(t), _axis(t), BLACK if t % 2 else BLURRY) for t in range(8)]
    selection = select_frames(frames, k=5)
    assert selection.fallback
    assert 1 <= len(selection.picks) <= 3
    assert all("Fallback" in pick.explanation for pick in selection.picks)
    assert dict(selection.rejected) == {"black": 4, "blurry": 4}
    # The blurry frames outscore the black ones and come first.
    assert selection.picks[0].frame.scores["brightness"] > 0


def test_explanations_quote_scores_and_reasons() -> None:
    frames = [_frame(1.0, _axis(0)), _frame(5.0, _axis(1)), _frame(3.0, _axis(2), BLACK)]
    first, second = select_frames(frames, k=2).picks
    assert first.explanation.startswith("rank 1 at 1.00 s, quality")
    assert "sharpness 0.80" in first.explanation and "best quality of 2 usable" in first.explanation
    assert "1 bad (black 1)" in first.explanation
    assert second.explanation.startswith("rank 2 at 5.00 s")


def test_empty_input_and_bad_arguments() -> None:
    empty = select_frames([], k=3)
    assert empty.picks == () and not empty.fallback
    frames = [_frame(0.0, _axis(0))]
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        select_frames(frames, k=0)
    unembedded = ScoredFrame(frames[0].frame, GOOD, 0.5)
    with pytest.raises(ValueError, match=r"frames\[1\].embedding is None"):
        select_frames([frames[0], unembedded], k=1)
    with pytest.raises(ValueError, match="same length"):
        select_frames([frames[0], _frame(1.0, _axis(0, dim=4))], k=1)
    with pytest.raises(ValueError, match="mmr_lambda must be in"):
        SelectionParams(mmr_lambda=1.5)
    with pytest.raises(ValueError, match="min_gap_s must be >= 0"):
        SelectionParams(min_gap_s=-1)
    with pytest.raises(ValueError, match="fallback_k must be >= 1"):
        SelectionParams(fallback_k=0)

"""Selection on hand-made scored frames: bad frames, one still per shot, duplicates, faces,
diversity, gaps, fallback, explanations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artwork.candidates.select import (
    Selection,
    SelectionParams,
    describe_tags,
    frame_score,
    select_frames,
)
from artwork.config import Settings
from artwork.domain import Frame, ScoredFrame
from artwork.scoring.quality import BadFrameThresholds, quality

GOOD = {
    "sharpness": 0.8,
    "exposure": 1.0,
    "contrast": 0.6,
    "colourfulness": 0.5,
    "brightness": 0.45,
    "uniformity": 0.2,
    "noise": 0.05,
    "motion_blur": 0.05,
}
BLACK = GOOD | {"brightness": 0.0, "sharpness": 0.0, "uniformity": 1.0, "exposure": 0.0}
BLURRY = GOOD | {"sharpness": 0.02}
NO_FACE = {"face_count": 0.0, "face_area": 0.0, "face_thirds": 0.0, "face_frontal": 0.0}
CLOSE_UP = {"face_count": 1.0, "face_area": 0.1, "face_thirds": 0.8, "face_frontal": 1.0}


def _unit(vector: list[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return (array / np.linalg.norm(array)).astype(np.float32)


def _axis(i: int, dim: int = 16) -> np.ndarray:
    return _unit(np.eye(dim, dtype=np.float32)[i])


def _frame(
    time_s: float,
    embedding: np.ndarray,
    scores: dict[str, float] = GOOD,
    boost: float = 0.0,
    *,
    shot: int | None = None,
    tags: dict[str, float] | None = None,
) -> ScoredFrame:
    """A frame; by default each sample (0.25 s apart) is a shot of its own."""
    scores = dict(scores) | {"sharpness": min(1.0, scores["sharpness"] + boost)}
    image = np.zeros((4, 4, 3), np.uint8)
    return ScoredFrame(
        frame=Frame(index=round(time_s * 25), time_s=time_s, image=image),
        scores=scores,
        quality=quality(scores),
        embedding=embedding,
        tags=tags or {},
        shot=round(time_s * 4) if shot is None else shot,
    )


def _times(selection: Selection) -> list[float]:
    return [pick.frame.frame.time_s for pick in selection.picks]


# --- bad and weak frames -----------------------------------------------------------------------
def test_bad_frames_are_never_picked_and_are_counted() -> None:
    frames = [
        _frame(0.0, _axis(0), BLACK),
        _frame(2.0, _axis(1)),
        _frame(4.0, _axis(2), BLURRY),
        _frame(6.0, _axis(3), BLACK),
        _frame(8.0, _axis(4)),
        _frame(10.0, _axis(5), GOOD | {"transition": 1.0}),
        _frame(12.0, _axis(6), GOOD | {"text_heaviness": 0.9}),
    ]
    selection = select_frames(frames, k=5)
    assert sorted(_times(selection)) == [2.0, 8.0]  # fewer than K: no padding with bad ones
    assert dict(selection.rejected) == {"black": 2, "blurry": 1, "transition": 1, "text": 1}
    assert not selection.fallback


def test_thresholds_from_settings_reach_selection(tmp_path: Path) -> None:
    params = SelectionParams.from_settings(Settings(home=tmp_path, max_text_heaviness=0.95))
    assert params.thresholds == BadFrameThresholds(text_above=0.95)
    frames = [_frame(0.0, _axis(0), GOOD | {"text_heaviness": 0.9})]
    assert not select_frames(frames, k=1, params=params).fallback
    assert select_frames(frames, k=1).fallback  # the default 0.4 calls it text


def test_weak_frames_do_not_pad_the_list() -> None:
    dim = GOOD | {"exposure": 0.1, "sharpness": 0.15, "contrast": 0.05, "colourfulness": 0.05}
    dim |= {"noise": 0.6, "motion_blur": 0.8}
    frames = [_frame(0.0, _axis(0)), _frame(5.0, _axis(1), dim)]
    selection = select_frames(frames, k=2)
    assert _times(selection) == [0.0]
    assert selection.weak == 1


# --- one still per shot ------------------------------------------------------------------------
def _three_shots() -> list[ScoredFrame]:
    """Three shots of four distinct moments, 2 s apart; the best of each shot is at +4 s."""
    return [
        _frame(10.0 * shot + 2.0 * i, _axis(4 * shot + i), boost=0.05 * (i == 2), shot=shot)
        for shot in range(3)
        for i in range(4)
    ]


def test_one_best_still_per_shot() -> None:
    strict = SelectionParams(fill_from_picked_shots=False)
    selection = select_frames(_three_shots(), k=5, params=strict)
    assert sorted(_times(selection)) == [4.0, 14.0, 24.0]
    assert sorted(p.frame.shot for p in selection.picks) == [0, 1, 2]
    assert selection.same_shot == 9 and selection.duplicates == selection.too_close == 0
    assert "the best still of shot" in selection.picks[0].explanation
    assert "9 left in a shot already picked" in selection.picks[0].explanation


def test_long_shots_fill_the_list_only_with_different_moments() -> None:
    selection = select_frames(_three_shots(), k=5)  # every frame its own moment
    assert len(selection.picks) == 5
    assert sorted(_times(selection)[:3]) == [4.0, 14.0, 24.0]  # every shot's still comes first
    assert all("a further still of shot" in p.explanation for p in selection.picks[3:])
    # Slowly moving shots: frames of a shot at cosine 0.90 to each other, under the duplicate
    # threshold; asking a second still to be less similar than 0.85 leaves one per shot.
    moving = [
        _frame(
            10.0 * shot + 2.0 * i,
            _unit(np.eye(16)[shot] + 0.33 * np.eye(16)[3 + 4 * shot + i]),
            boost=0.05 * (i == 2),
            shot=shot,
        )
        for shot in range(3)
        for i in range(4)
    ]
    assert len(select_frames(moving, k=5).picks) == 5
    demanding = SelectionParams(fill_max_similarity=0.85)
    selection = select_frames(moving, k=5, params=demanding)
    assert sorted(_times(selection)) == [4.0, 14.0, 24.0]
    assert selection.same_shot == 9


def test_near_duplicates_across_shots_collapse_to_the_best_one() -> None:
    frames = [
        _frame(0.0, _axis(0), shot=0),
        _frame(5.0, _unit([1, 0.1] + [0] * 14), boost=0.1, shot=1),  # cos 0.995 to t=0, better
        _frame(9.0, _unit([1, 0, 0.1] + [0] * 13), shot=2),
        _frame(13.0, _axis(1), shot=3),
    ]
    selection = select_frames(frames, k=4)
    assert _times(selection) == [5.0, 13.0]
    assert selection.duplicates == 2


def test_duplicate_threshold_is_respected() -> None:
    base = _axis(0)
    close = _unit([1, 0.5] + [0] * 14)  # cos 0.894
    frames = [_frame(0.0, base, boost=0.1), _frame(5.0, close)]
    assert len(select_frames(frames, k=2).picks) == 2
    strict = SelectionParams(duplicate_threshold=0.85)
    assert len(select_frames(frames, k=2, params=strict).picks) == 1


# --- faces and composition ---------------------------------------------------------------------
def test_a_prominent_face_beats_a_slightly_sharper_frame_without_one() -> None:
    sharper = _frame(0.0, _axis(0), GOOD | NO_FACE | {"sharpness": 0.95})
    face = _frame(5.0, _axis(1), GOOD | CLOSE_UP | {"sharpness": 0.7})
    assert sharper.quality > face.quality
    selection = select_frames([sharper, face], k=2)
    assert _times(selection) == [5.0, 0.0]
    assert "1 face, the largest frontal, 10% of the frame" in selection.picks[0].explanation
    qualities_only = SelectionParams(face_weight=0.0, composition_weight=0.0)
    assert _times(select_frames([sharper, face], k=2, params=qualities_only)) == [0.0, 5.0]


def test_frame_score_terms() -> None:
    plain = frame_score(_frame(0.0, _axis(0)))
    assert plain.face == 0.0 and plain.composition == 0.0
    assert plain.total == pytest.approx(0.65 * plain.quality)
    close_up = frame_score(_frame(0.0, _axis(0), GOOD | CLOSE_UP | {"saliency_thirds": 0.5}))
    assert close_up.face == pytest.approx(0.6 + 0.2 + 0.2 * 0.8)
    assert close_up.composition == 0.5
    tiny_profile = GOOD | CLOSE_UP | {"face_area": 0.008, "face_frontal": 0.5, "face_thirds": 0}
    assert frame_score(_frame(0.0, _axis(0), tiny_profile)).face == pytest.approx(0.16)
    assert 0.0 <= close_up.total <= 1.0


def test_picks_carry_their_score_best_first() -> None:
    frames = [_frame(float(t), _axis(t), boost=0.01 * t) for t in range(6)]
    selection = select_frames(frames, k=3)
    scores = [p.score for p in selection.picks]
    assert scores[0] == max(scores)
    assert scores == [frame_score(p.frame).total for p in selection.picks]


# --- diversity and gaps ------------------------------------------------------------------------
def test_mmr_prefers_a_different_frame_over_a_slightly_better_similar_one() -> None:
    frames = [
        _frame(0.0, _axis(0), boost=0.2),
        _frame(3.0, _unit([1, 0.6] + [0] * 14), boost=0.05),  # similar, a bit better
        _frame(6.0, _axis(2)),  # different, a bit worse
    ]
    selection = select_frames(frames, k=2)
    assert _times(selection) == [0.0, 6.0]
    assert "MMR" in selection.picks[1].explanation
    # With the score alone (lambda 1) the similar, better frame wins.
    greedy = select_frames(frames, k=2, params=SelectionParams(mmr_lambda=1.0))
    assert _times(greedy) == [0.0, 3.0]


def test_picks_keep_the_minimum_gap() -> None:
    frames = [
        _frame(t, _axis(i % 16), boost=0.01 * i) for i, t in enumerate(np.arange(0, 20, 0.25))
    ]
    selection = select_frames(frames, k=5, params=SelectionParams(duplicate_threshold=1.0))
    times = sorted(_times(selection))
    assert len(times) == 5
    assert min(np.diff(times)) >= 1.0
    assert selection.too_close > 0


def test_the_gap_shrinks_for_short_videos() -> None:
    # 2 s of frames, K=5: a 1 s gap would allow 3 picks; the gap shrinks to 0.2 s.
    frames = [_frame(t, _axis(i)) for i, t in enumerate([0.1, 0.4, 0.8, 1.2, 1.6, 1.9])]
    assert len(select_frames(frames, k=5).picks) == 5


# --- fallback, explanations, arguments ---------------------------------------------------------
def test_all_bad_frames_fall_back_to_the_best_few() -> None:
    frames = [_frame(float(t), _axis(t), BLACK if t % 2 else BLURRY) for t in range(8)]
    selection = select_frames(frames, k=5)
    assert selection.fallback
    assert 1 <= len(selection.picks) <= 3
    assert all("Fallback" in pick.explanation for pick in selection.picks)
    assert dict(selection.rejected) == {"black": 4, "blurry": 4}
    # The blurry frames outscore the black ones and come first.
    assert selection.picks[0].frame.scores["brightness"] > 0


def test_explanations_quote_scores_tags_and_reasons() -> None:
    frames = [
        _frame(1.0, _axis(0), GOOD | CLOSE_UP, tags={"person": 0.9, "close_up_face": 1.0}),
        _frame(5.0, _axis(1)),
        _frame(3.0, _axis(2), BLACK),
    ]
    first, second = select_frames(frames, k=2).picks
    assert first.explanation.startswith("rank 1 at 1.00 s (shot 4), score ")
    assert "x quality" in first.explanation and "x face 0.96" in first.explanation
    assert "sharpness 0.80" in first.explanation and "face_count 1," in first.explanation
    assert "tags: close_up_face 1.00, person 0.90" in first.explanation
    assert "best score of 2 usable frames in 2 shots" in first.explanation
    assert "1 bad (black 1)" in first.explanation
    assert second.explanation.startswith("rank 2 at 5.00 s") and "no face" in second.explanation
    assert "tags:" not in second.explanation
    assert describe_tags({}) == "none"


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
    with pytest.raises(ValueError, match="face_weight must be >= 0"):
        SelectionParams(face_weight=-0.1)
    with pytest.raises(ValueError, match="fill_max_similarity must be in"):
        SelectionParams(fill_max_similarity=2.0)
    with pytest.raises(ValueError, match="must not all be 0"):
        SelectionParams(quality_weight=0, face_weight=0, composition_weight=0)

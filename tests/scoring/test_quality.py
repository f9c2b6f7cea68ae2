"""QualityScorer features, the bad-frame rule and the combined quality."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as photos

from artwork.scoring.base import FrameScorer
from artwork.scoring.quality import (
    FEATURES,
    QUALITY_WEIGHTS,
    BadFrameThresholds,
    QualityScorer,
    is_bad_frame,
    quality,
)

SCORER = QualityScorer()


def _flat(value: tuple[int, int, int], size: tuple[int, int] = (180, 320)) -> np.ndarray:
    return np.full((*size, 3), value, dtype=np.uint8)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def test_is_a_frame_scorer_with_every_feature_in_unit_range(rng: np.random.Generator) -> None:
    assert isinstance(SCORER, FrameScorer) and QualityScorer.name == "quality"
    images = [
        photos.astronaut(),
        photos.chelsea(),
        _flat((0, 0, 0)),
        _flat((255, 255, 255)),
        rng.integers(0, 256, (90, 160, 3), dtype=np.uint8),
        np.zeros((1, 1, 3), np.uint8),
    ]
    for image in images:
        scores = SCORER.score(image)
        assert tuple(scores) == FEATURES
        assert all(0.0 <= v <= 1.0 and isinstance(v, float) for v in scores.values()), scores
        assert 0.0 <= quality(scores) <= 1.0


def test_a_sharp_photo_is_good_and_beats_its_blurred_copy() -> None:
    photo = photos.chelsea()
    sharp, blurred = SCORER.score(photo), SCORER.score(_blur(photo, 4))
    assert is_bad_frame(sharp) is None
    assert is_bad_frame(blurred) == "blurry"
    assert quality(sharp) > quality(blurred) + 0.2


def test_sharpness_falls_as_blur_grows() -> None:
    photo = photos.astronaut()
    values = [SCORER.score(_blur(photo, s) if s else photo)["sharpness"] for s in (0, 1, 2, 4, 8)]
    assert values == sorted(values, reverse=True)
    assert values[0] > 0.5 and values[-1] < 0.05


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (_flat((0, 0, 0)), "black"),
        (_flat((12, 10, 14)), "black"),
        (_flat((255, 255, 255)), "white"),
        (_flat((128, 40, 200)), "uniform"),
    ],
    ids=["black", "near-black", "white", "one colour"],
)
def test_bad_frames_are_named(image: np.ndarray, reason: str) -> None:
    assert is_bad_frame(SCORER.score(image)) == reason


def test_flat_frame_scores() -> None:
    scores = SCORER.score(_flat((0, 0, 0)))
    assert scores["uniformity"] == 1.0
    assert scores["sharpness"] == scores["contrast"] == scores["exposure"] == 0.0
    assert scores["brightness"] == 0.0
    grey = SCORER.score(_flat((128, 128, 128)))
    assert grey["colourfulness"] == 0.0 and grey["exposure"] == 1.0


def test_contrast_colourfulness_and_exposure_order_frames() -> None:
    checker = np.kron((np.indices((9, 16)).sum(axis=0) % 2) * 255, np.ones((20, 20)))
    checker_rgb = np.repeat(checker[..., None], 3, axis=2).astype(np.uint8)
    assert SCORER.score(checker_rgb)["contrast"] == 1.0
    assert SCORER.score(checker_rgb)["colourfulness"] == 0.0

    stripes = np.zeros((180, 320, 3), np.uint8)
    stripes[:, ::2] = (255, 0, 0)
    stripes[:, 1::2] = (0, 0, 255)
    assert SCORER.score(stripes)["colourfulness"] == 1.0

    photo = photos.coffee()
    dark = (photo * 0.15).astype(np.uint8)
    assert SCORER.score(dark)["exposure"] < SCORER.score(photo)["exposure"] - 0.3


def test_scores_do_not_depend_on_resolution() -> None:
    photo = photos.astronaut()  # 512 px: downscaled to 320 first
    bigger = cv2.resize(photo, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    small, large = SCORER.score(photo), SCORER.score(np.asarray(bigger, np.uint8))
    for name in FEATURES:
        assert small[name] == pytest.approx(large[name], abs=0.05), name


def test_quality_weights_sum_to_one() -> None:
    assert sum(QUALITY_WEIGHTS.values()) == pytest.approx(1.0)
    perfect = dict.fromkeys(FEATURES, 1.0) | {"uniformity": 0.0}
    assert quality(perfect) == pytest.approx(1.0)


def test_thresholds_are_configurable_and_checked() -> None:
    scores = SCORER.score(_blur(photos.chelsea(), 4))
    assert is_bad_frame(scores, BadFrameThresholds(blurry_below=0.0)) is None
    with pytest.raises(ValueError, match="black_below must be in"):
        BadFrameThresholds(black_below=2.0)
    with pytest.raises(ValueError, match="scores must hold"):
        is_bad_frame({"sharpness": 1.0})
    with pytest.raises(ValueError, match="scores must hold"):
        quality({"sharpness": 1.0})


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((10, 10, 3), np.float32), "dtype uint8"),
        (np.zeros((10, 10), np.uint8), r"shape \(height, width, 3\)"),
        (np.zeros((10, 10, 4), np.uint8), r"shape \(height, width, 3\)"),
    ],
)
def test_bad_images_are_refused(image: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=f"image must have {message}"):
        SCORER.score(image)


def test_max_width_is_checked() -> None:
    with pytest.raises(ValueError, match="max_width must be >= 16, got 8"):
        QualityScorer(max_width=8)

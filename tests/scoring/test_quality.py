"""QualityScorer features (planted ground truth: blur, noise, motion blur), the bad-frame rule
and the combined quality."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as photos

from artwork.config import Settings
from artwork.scoring.base import FrameScorer
from artwork.scoring.quality import (
    FEATURES,
    QUALITY_INPUTS,
    QUALITY_WEIGHTS,
    BadFrameThresholds,
    QualityScorer,
    is_bad_frame,
    noise_sigma,
    quality,
)

SCORER = QualityScorer()


def _flat(value: tuple[int, int, int], size: tuple[int, int] = (180, 320)) -> np.ndarray:
    return np.full((*size, 3), value, dtype=np.uint8)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def _small(image: np.ndarray, width: int = 320) -> np.ndarray:
    height = round(image.shape[0] * width / image.shape[1])
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def _noisy(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 255).astype(np.uint8)


def _motion_blur(image: np.ndarray, length: int, angle: float = 0.0) -> np.ndarray:
    """A straight motion-blur kernel of ``length`` pixels at ``angle`` degrees."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    if angle:
        centre = ((length - 1) / 2, (length - 1) / 2)
        rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return np.asarray(cv2.filter2D(image, -1, kernel / kernel.sum()), np.uint8)


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
    perfect = dict.fromkeys(FEATURES, 1.0) | {"uniformity": 0.0, "noise": 0.0, "motion_blur": 0.0}
    assert quality(perfect) == pytest.approx(1.0)
    assert set(FEATURES) >= QUALITY_INPUTS


# --- noise and motion blur, planted ------------------------------------------------------------
@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee"])
def test_added_gaussian_noise_raises_noise(name: str, rng: np.random.Generator) -> None:
    photo = _small(getattr(photos, name)())
    clean = SCORER.score(photo)["noise"]
    levels = [SCORER.score(_noisy(photo, sigma, rng))["noise"] for sigma in (4, 8, 16)]
    assert clean < 0.2
    assert [clean, *levels] == sorted([clean, *levels])
    assert levels[1] > clean + 0.25 and levels[2] > 0.6


def test_noise_sigma_recovers_the_planted_sigma(rng: np.random.Generator) -> None:
    flat = np.full((180, 320), 128.0)
    for sigma in (2.0, 5.0, 10.0):
        noisy = np.clip(flat + rng.normal(0, sigma, flat.shape), 0, 255).astype(np.uint8)
        assert noise_sigma(noisy) == pytest.approx(sigma, rel=0.15)
    assert noise_sigma(np.zeros((2, 2), np.uint8)) == 0.0
    with pytest.raises(ValueError, match="luma must be a 2-D uint8 array"):
        noise_sigma(np.zeros((8, 8, 3), np.uint8))


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee"])
def test_a_motion_blur_kernel_raises_motion_blur(name: str) -> None:
    photo = _small(getattr(photos, name)())
    sharp = SCORER.score(photo)["motion_blur"]
    horizontal = SCORER.score(_motion_blur(photo, 9))["motion_blur"]
    vertical = SCORER.score(_motion_blur(photo, 9, angle=90))["motion_blur"]
    assert sharp < 0.25
    assert horizontal > sharp + 0.4 and vertical > sharp + 0.4


def test_motion_blur_is_directional_not_any_blur() -> None:
    photo = _small(photos.chelsea())
    defocused = SCORER.score(_blur(photo, 2))
    smeared = SCORER.score(_motion_blur(photo, 9))
    # Both are blurry; only the smear runs one way.
    assert defocused["sharpness"] < 0.2 and smeared["sharpness"] < 0.25
    assert defocused["motion_blur"] < 0.2 < 0.6 < smeared["motion_blur"]
    # The stiller frame of the two equally sharp ones has the better quality.
    assert quality(SCORER.score(photo)) > quality(smeared)


def test_scikit_images_real_motion_blurred_clock() -> None:
    path = Path(photos.__file__).parent / "clock_motion.png"
    if not path.is_file():
        pytest.skip("scikit-image's clock_motion.png is not installed")
    clock = np.asarray(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), np.uint8)
    assert SCORER.score(clock)["motion_blur"] > 0.8


# --- the bad-frame rule: transitions and text --------------------------------------------------
def test_transition_and_text_scores_make_a_frame_bad() -> None:
    good = SCORER.score(photos.astronaut())
    assert is_bad_frame(good) is None
    assert is_bad_frame(good | {"transition": 0.5}) == "transition"
    assert is_bad_frame(good | {"transition": 0.49}) is None
    assert is_bad_frame(good | {"text_heaviness": 0.41}) == "text"
    assert is_bad_frame(good | {"text_heaviness": 0.4}) is None
    # Black is named before transition: the dark end of a fade is simply black.
    black = SCORER.score(_flat((0, 0, 0))) | {"transition": 1.0}
    assert is_bad_frame(black) == "black"
    lenient = BadFrameThresholds(transition_from=1.0, text_above=1.0)
    assert is_bad_frame(good | {"transition": 0.9, "text_heaviness": 0.9}, lenient) is None


def test_thresholds_come_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        min_sharpness=0.2,
        min_brightness=0.1,
        max_brightness=0.9,
        max_uniformity=0.8,
        max_text_heaviness=0.3,
        transition_threshold=0.7,
    )
    assert BadFrameThresholds.from_settings(settings) == BadFrameThresholds(
        black_below=0.1,
        white_above=0.9,
        uniform_above=0.8,
        transition_from=0.7,
        text_above=0.3,
        blurry_below=0.2,
    )
    assert BadFrameThresholds.from_settings(Settings(home=tmp_path)) == BadFrameThresholds()


def test_thresholds_are_configurable_and_checked() -> None:
    scores = SCORER.score(_blur(photos.chelsea(), 4))
    assert is_bad_frame(scores, BadFrameThresholds(blurry_below=0.0)) is None
    with pytest.raises(ValueError, match="black_below must be in"):
        BadFrameThresholds(black_below=2.0)
    with pytest.raises(ValueError, match="text_above must be in"):
        BadFrameThresholds(text_above=-0.1)
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

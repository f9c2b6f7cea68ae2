"""Image-quality features of one frame (OpenCV, no model), the bad-frame rule and one quality.

Every feature is in [0, 1]. Images wider than ``QualityScorer.max_width`` (default 320 px, the
analysis width) are downscaled first, because the Laplacian's variance grows with resolution
and the scales below were calibrated at 320 px. Luma is OpenCV's BT.601 grey, 0..255.

============== ===================================================================================
feature        definition
============== ===================================================================================
sharpness      ``v / (v + SHARPNESS_SCALE)`` with ``v`` the variance of the Laplacian of luma and
               ``SHARPNESS_SCALE = 200``: 0.5 at v = 200. Measured at 320 px: heavy Gaussian blur
               (sigma 6) v ≈ 5 → 0.02; motion-blurred bikes v ≈ 90 → 0.3; crisp animation
               (Big Buck Bunny) v ≈ 1,100 → 0.85.
exposure       ``(1 - clipped) * mean_term``: ``clipped`` is the fraction of pixels with luma
               <= 16 or >= 239; ``mean_term`` is 1 for a mean luma in [0.25, 0.75] (of 255),
               falling linearly to 0 at a mean of 0 or 1.
contrast       ``min(1, std(luma) / 80)``; natural frames score 0.4 to 0.9.
colourfulness  Hasler & Süsstrunk (2003), as ``min(1, M / 100)`` with
               ``M = hypot(std(rg), std(yb)) + 0.3 hypot(mean(rg), mean(yb))``,
               ``rg = R - G``, ``yb = (R + G) / 2 - B`` (their scale: 33 moderately, 59 quite,
               82 highly colourful).
brightness     mean luma / 255 (not better or worse in itself; used by the bad-frame rule).
uniformity     how flat the frame is: the fraction of pixels inside the densest band of 16 luma
               levels. 1 = one colour (black, a title card background), 0.1 to 0.4 for scenes.
noise          estimated sensor/film noise, higher is noisier: ``min(1, sigma / NOISE_SCALE)``
               with ``NOISE_SCALE = 12`` luma levels and ``sigma`` Immerkær's (1996) estimate
               made robust with a median: the luma convolved with the Laplacian-difference mask
               ``[[1,-2,1],[-2,4,-2],[1,-2,1]]`` (blind to planes and ramps, so mostly noise
               remains), ``sigma = median(|.|) / 0.6745 / 6``. Measured at 320 px: clean photos
               and footage 0.02 to 0.15, Big Buck Bunny's fine grass 0.2 to 0.3, added Gaussian
               noise of sigma 8 about 0.5, sigma 15 about 0.85.
motion_blur    how much of the frame's blur runs in one direction, higher is more blurred:
               motion smears detail along its direction only, so at full analysis resolution
               the gradient structure tensor becomes anisotropic, while at a quarter of the
               resolution (two ``pyrDown``) the smear is short and the anisotropy of the
               content itself shows. With ``r_fine = lambda_min / lambda_max`` and ``r_coarse``
               the coarse tensor's energy ratio along the same two directions,
               ``min(1, max(0, 1 - r_fine / min(r_coarse, 1)) / MOTION_BLUR_SCALE)`` with
               ``MOTION_BLUR_SCALE = 0.6``. Isotropic (defocus) blur and noise leave it near 0;
               measured at 320 px: sharp photos and footage 0 to 0.25 (strongly oriented
               content like the cameraman's tripod up to 0.6), a 9-px horizontal motion-blur
               kernel 0.7 to 0.95, scikit-image's real motion-blurred clock 1.
============== ===================================================================================

:func:`is_bad_frame` turns these (with ``transition`` from shot detection and
``text_heaviness`` from :mod:`artwork.scoring.text`) into a reason a frame must not become
artwork; :func:`quality` combines them into one number for ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.scoring.base import FrameScorer, check_image, fit_width

if TYPE_CHECKING:
    from artwork.config import Settings

FEATURES: tuple[str, ...] = (
    "sharpness",
    "exposure",
    "contrast",
    "colourfulness",
    "brightness",
    "uniformity",
    "noise",
    "motion_blur",
)
SHARPNESS_SCALE = 200.0
CONTRAST_SCALE = 80.0
COLOURFULNESS_SCALE = 100.0
UNIFORMITY_BAND = 16
SHADOW_CLIP, HIGHLIGHT_CLIP = 16, 239
NOISE_SCALE = 12.0
MOTION_BLUR_SCALE = 0.6
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_MAD_TO_SIGMA = 1.0 / (0.6745 * 6.0)  # median |N(0, 36 s^2)| = 0.6745 * 6 s

QUALITY_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "sharpness": 0.35,
        "exposure": 0.20,
        "contrast": 0.10,
        "colourfulness": 0.10,
        "flatness": 0.07,  # 1 - uniformity
        "cleanness": 0.08,  # 1 - noise
        "steadiness": 0.10,  # 1 - motion_blur
    }
)
"""Weights of :func:`quality`; they sum to 1. Sharpness leads because blur is the commonest
reason a sampled frame makes poor artwork, and steadiness (no motion blur) follows it so that
the stillest frame of a shot wins, as in Hecate and Katna; brightness is left out (exposure
covers it)."""
QUALITY_INPUTS: frozenset[str] = frozenset(
    {"sharpness", "exposure", "contrast", "colourfulness", "uniformity", "noise", "motion_blur"}
)
"""The scores :func:`quality` needs."""


@dataclass(frozen=True, slots=True)
class BadFrameThresholds:
    """When :func:`is_bad_frame` rejects a frame (checked in this order).

    Attributes:
        black_below: brightness under this is ``"black"`` (0.08 ≈ mean luma 20: the dark end of
            a fade, a black slate; night scenes usually sit above 0.12).
        white_above: brightness over this is ``"white"`` (a flash, a white slate).
        uniform_above: uniformity over this is ``"uniform"`` (90% of pixels in one luma band:
            title cards, single-colour frames).
        transition_from: a ``transition`` score at or over this is ``"transition"`` (shot
            detection sets it for frames inside fades and dissolves; frames without the score
            count as 0).
        text_above: ``text_heaviness`` over this is ``"text"`` (credits, title cards, a page
            of text; 0.4 ≈ 8% of the frame covered by text lines. Natural frames score under
            0.15, one subtitle line about 0.1, two lines of credits 0.5, a screen of credits 1).
            Frames without the score count as 0.
        blurry_below: sharpness under this is ``"blurry"`` (0.1 ≈ Laplacian variance 22 at 320 px;
            the synthetic sigma-6 blur scores 0.02, motion-blurred real footage 0.3).
    """

    black_below: float = 0.08
    white_above: float = 0.94
    uniform_above: float = 0.90
    transition_from: float = 0.5
    text_above: float = 0.4
    blurry_below: float = 0.10

    def __post_init__(self) -> None:
        for name in (
            "black_below",
            "white_above",
            "uniform_above",
            "transition_from",
            "text_above",
            "blurry_below",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")

    @classmethod
    def from_settings(cls, settings: Settings) -> BadFrameThresholds:
        """The thresholds configured by ``ARTWORK_MIN_BRIGHTNESS``, ``ARTWORK_MAX_BRIGHTNESS``,
        ``ARTWORK_MAX_UNIFORMITY``, ``ARTWORK_TRANSITION_THRESHOLD``,
        ``ARTWORK_MAX_TEXT_HEAVINESS`` and ``ARTWORK_MIN_SHARPNESS``.

        Args:
            settings: the settings to read.
        """
        return cls(
            black_below=settings.min_brightness,
            white_above=settings.max_brightness,
            uniform_above=settings.max_uniformity,
            transition_from=settings.transition_threshold,
            text_above=settings.max_text_heaviness,
            blurry_below=settings.min_sharpness,
        )


class QualityScorer(FrameScorer):
    """The eight features of the module docstring, from OpenCV.

    Args:
        max_width: images wider than this are downscaled (INTER_AREA) before scoring, so
            scores do not depend on the input resolution.
    """

    name: ClassVar[str] = "quality"

    def __init__(self, *, max_width: int = 320) -> None:
        if max_width < 16:
            raise ValueError(f"max_width must be >= 16, got {max_width}")
        self.max_width = max_width

    def score(self, image: Image) -> dict[str, float]:
        """The features of one RGB frame, each in [0, 1].

        Args:
            image: RGB ``uint8`` array of shape (height, width, 3).

        Returns:
            ``{feature: value}`` for every name in :data:`FEATURES`.
        """
        check_image(image)
        image = fit_width(image, self.max_width)
        luma = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), np.uint8)
        luma_mean, luma_std = _mean_std(luma)
        brightness = luma_mean / 255.0

        laplacian_std = _mean_std(cv2.Laplacian(luma, cv2.CV_32F))[1]
        laplacian_var = laplacian_std * laplacian_std
        sharpness = laplacian_var / (laplacian_var + SHARPNESS_SCALE)

        histogram = np.bincount(luma.ravel(), minlength=256)
        clipped = (
            histogram[: SHADOW_CLIP + 1].sum() + histogram[HIGHLIGHT_CLIP:].sum()
        ) / luma.size
        mean_term = min(1.0, max(0.0, 1.0 - (abs(brightness - 0.5) - 0.25) / 0.25))
        exposure = (1.0 - float(clipped)) * mean_term

        contrast = min(1.0, luma_std / CONTRAST_SCALE)

        red, green, blue = (image[..., c].astype(np.int16) for c in range(3))
        rg_mean, rg_std = _mean_std(red - green)
        # yb = (R + G) / 2 - B, computed doubled in int16 and halved here.
        yb2_mean, yb2_std = _mean_std(red + green - 2 * blue)
        m = np.hypot(rg_std, yb2_std / 2.0) + 0.3 * np.hypot(rg_mean, yb2_mean / 2.0)
        colourfulness = min(1.0, float(m) / COLOURFULNESS_SCALE)

        band = np.convolve(histogram, np.ones(UNIFORMITY_BAND, dtype=np.int64), mode="valid")
        uniformity = float(band.max()) / luma.size

        return {
            "sharpness": _unit(sharpness),
            "exposure": _unit(exposure),
            "contrast": _unit(contrast),
            "colourfulness": _unit(colourfulness),
            "brightness": _unit(brightness),
            "uniformity": _unit(uniformity),
            "noise": _unit(noise_sigma(luma) / NOISE_SCALE),
            "motion_blur": _unit(_directional_blur(luma.astype(np.float32)) / MOTION_BLUR_SCALE),
        }


def noise_sigma(luma: Image) -> float:
    """Estimated standard deviation of the noise in a grey image, in luma levels.

    Immerkær's fast estimator with a median instead of a mean, so edges and texture (sparse
    after the mask) bias it less; see the module docstring.

    Args:
        luma: grey ``uint8`` image (2-D); smaller than 3 x 3 gives 0.
    """
    if luma.ndim != 2 or luma.dtype != np.uint8:
        raise ValueError(f"luma must be a 2-D uint8 array, got {luma.dtype} {luma.shape}")
    if luma.shape[0] < 3 or luma.shape[1] < 3:
        return 0.0
    response = cv2.filter2D(luma, cv2.CV_16S, _NOISE_MASK, borderType=cv2.BORDER_REFLECT)
    # The response is an integer in [-4080, 4080]: a histogram gives the median in O(n).
    counts = np.bincount(np.abs(response[1:-1, 1:-1]).ravel(), minlength=1)
    median = int(np.searchsorted(np.cumsum(counts), (counts.sum() + 1) // 2))
    return median * _MAD_TO_SIGMA


def _directional_blur(luma: NDArray[np.float32]) -> float:
    """``1 - r_fine / min(r_coarse, 1)`` of the module docstring, floored at 0."""
    if min(luma.shape) < 16:  # too small for a quarter-resolution tensor
        return 0.0
    jxx, jxy, jyy = _structure_tensor(luma)
    trace, det = jxx + jyy, jxx * jyy - jxy * jxy
    spread = float(np.sqrt(max(trace * trace / 4.0 - det, 0.0)))
    largest, smallest = trace / 2.0 + spread, trace / 2.0 - spread
    if largest <= 1e-6:  # flat frame: no gradients, no blur direction
        return 0.0
    # Eigenvector of the smallest eigenvalue: the direction gradients vanish along.
    if abs(jxy) > 1e-9:
        along = np.array([smallest - jyy, jxy])
    else:
        along = np.array([1.0, 0.0]) if jxx <= jyy else np.array([0.0, 1.0])
    along /= np.linalg.norm(along)
    across = np.array([-along[1], along[0]])
    cxx, cxy, cyy = _structure_tensor(np.asarray(cv2.pyrDown(cv2.pyrDown(luma)), np.float32))
    coarse = np.array([[cxx, cxy], [cxy, cyy]])
    eps = 1e-3
    ratio_fine = (smallest + eps) / (largest + eps)
    ratio_coarse = (float(along @ coarse @ along) + eps) / (float(across @ coarse @ across) + eps)
    return max(0.0, 1.0 - ratio_fine / min(ratio_coarse, 1.0))


def _structure_tensor(luma: NDArray[np.float32]) -> tuple[float, float, float]:
    """Mean ``gx^2``, ``gx gy``, ``gy^2`` of the 3 x 3 Sobel gradients."""
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    return float((gx * gx).mean()), float((gx * gy).mean()), float((gy * gy).mean())


def is_bad_frame(
    scores: Mapping[str, float], thresholds: BadFrameThresholds | None = None
) -> str | None:
    """Why a frame must not become artwork, or ``None`` if it may.

    Args:
        scores: at least ``brightness``, ``uniformity`` and ``sharpness`` (as from
            :class:`QualityScorer`); ``transition`` and ``text_heaviness`` are read when present
            and count as 0 when absent.
        thresholds: the limits; default :class:`BadFrameThresholds`.

    Returns:
        ``"black"``, ``"white"``, ``"uniform"``, ``"transition"``, ``"text"``, ``"blurry"``
        (the first that applies, in this order) or ``None``.
    """
    limits = thresholds or BadFrameThresholds()
    missing = {"brightness", "uniformity", "sharpness"} - scores.keys()
    if missing:
        raise ValueError(f"scores must hold {', '.join(sorted(missing))}, got {sorted(scores)}")
    if scores["brightness"] < limits.black_below:
        return "black"
    if scores["brightness"] > limits.white_above:
        return "white"
    if scores["uniformity"] > limits.uniform_above:
        return "uniform"
    if scores.get("transition", 0.0) >= limits.transition_from:
        return "transition"
    if scores.get("text_heaviness", 0.0) > limits.text_above:
        return "text"
    if scores["sharpness"] < limits.blurry_below:
        return "blurry"
    return None


def quality(scores: Mapping[str, float]) -> float:
    """One number in [0, 1] for ranking frames: the :data:`QUALITY_WEIGHTS`-weighted mean of
    sharpness, exposure, contrast, colourfulness, flatness (``1 - uniformity``), cleanness
    (``1 - noise``) and steadiness (``1 - motion_blur``).

    Args:
        scores: the features of :class:`QualityScorer` (others are ignored).
    """
    missing = QUALITY_INPUTS - scores.keys()
    if missing:
        raise ValueError(f"scores must hold {', '.join(sorted(missing))}, got {sorted(scores)}")
    values = dict(scores)
    values["flatness"] = 1.0 - scores["uniformity"]
    values["cleanness"] = 1.0 - scores["noise"]
    values["steadiness"] = 1.0 - scores["motion_blur"]
    return _unit(sum(weight * values[name] for name, weight in QUALITY_WEIGHTS.items()))


def _mean_std(array: NDArray[Any]) -> tuple[float, float]:
    mean, std = cv2.meanStdDev(array)
    return float(mean[0][0]), float(std[0][0])


def _unit(value: float) -> float:
    return float(min(1.0, max(0.0, value)))

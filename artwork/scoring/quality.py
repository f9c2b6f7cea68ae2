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
============== ===================================================================================

:func:`is_bad_frame` turns these into a reason a frame must not become artwork;
:func:`quality` combines them into one number for ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import cv2
import numpy as np

from artwork.domain import Image
from artwork.scoring.base import FrameScorer, check_image

FEATURES: tuple[str, ...] = (
    "sharpness",
    "exposure",
    "contrast",
    "colourfulness",
    "brightness",
    "uniformity",
)
SHARPNESS_SCALE = 200.0
CONTRAST_SCALE = 80.0
COLOURFULNESS_SCALE = 100.0
UNIFORMITY_BAND = 16
SHADOW_CLIP, HIGHLIGHT_CLIP = 16, 239

QUALITY_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "sharpness": 0.35,
        "exposure": 0.25,
        "contrast": 0.15,
        "colourfulness": 0.15,
        "flatness": 0.10,  # 1 - uniformity
    }
)
"""Weights of :func:`quality`; they sum to 1. Sharpness leads because blur is the commonest
reason a sampled frame makes poor artwork; brightness is left out (exposure covers it)."""


@dataclass(frozen=True, slots=True)
class BadFrameThresholds:
    """When :func:`is_bad_frame` rejects a frame (checked in this order).

    Attributes:
        black_below: brightness under this is ``"black"`` (0.08 ≈ mean luma 20: the dark end of
            a fade, a black slate; night scenes usually sit above 0.12).
        white_above: brightness over this is ``"white"`` (a flash, a white slate).
        uniform_above: uniformity over this is ``"uniform"`` (90% of pixels in one luma band:
            title cards, single-colour frames).
        blurry_below: sharpness under this is ``"blurry"`` (0.1 ≈ Laplacian variance 22 at 320 px;
            the synthetic sigma-6 blur scores 0.02, motion-blurred real footage 0.3).
    """

    black_below: float = 0.08
    white_above: float = 0.94
    uniform_above: float = 0.90
    blurry_below: float = 0.10

    def __post_init__(self) -> None:
        for name in ("black_below", "white_above", "uniform_above", "blurry_below"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")


class QualityScorer(FrameScorer):
    """The six features of the module docstring, from OpenCV.

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
        height, width = image.shape[:2]
        if width > self.max_width:
            size = (self.max_width, max(1, round(height * self.max_width / width)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        mean = float(luma.mean())
        brightness = mean / 255.0

        laplacian_var = float(cv2.Laplacian(luma, cv2.CV_32F).var())
        sharpness = laplacian_var / (laplacian_var + SHARPNESS_SCALE)

        histogram = np.bincount(luma.ravel(), minlength=256)
        clipped = (
            histogram[: SHADOW_CLIP + 1].sum() + histogram[HIGHLIGHT_CLIP:].sum()
        ) / luma.size
        mean_term = min(1.0, max(0.0, 1.0 - (abs(brightness - 0.5) - 0.25) / 0.25))
        exposure = (1.0 - float(clipped)) * mean_term

        contrast = min(1.0, float(luma.std()) / CONTRAST_SCALE)

        rgb = image.astype(np.float32)
        rg = rgb[..., 0] - rgb[..., 1]
        yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
        m = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
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
        }


def is_bad_frame(
    scores: Mapping[str, float], thresholds: BadFrameThresholds | None = None
) -> str | None:
    """Why a frame must not become artwork, or ``None`` if it may.

    Args:
        scores: at least ``brightness``, ``uniformity`` and ``sharpness`` (as from
            :class:`QualityScorer`).
        thresholds: the limits; default :class:`BadFrameThresholds`.

    Returns:
        ``"black"``, ``"white"``, ``"uniform"``, ``"blurry"`` or ``None``.
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
    if scores["sharpness"] < limits.blurry_below:
        return "blurry"
    return None


def quality(scores: Mapping[str, float]) -> float:
    """One number in [0, 1] for ranking frames: the :data:`QUALITY_WEIGHTS`-weighted mean of
    sharpness, exposure, contrast, colourfulness and flatness (``1 - uniformity``).

    Args:
        scores: the features of :class:`QualityScorer`.
    """
    missing = {"sharpness", "exposure", "contrast", "colourfulness", "uniformity"} - scores.keys()
    if missing:
        raise ValueError(f"scores must hold {', '.join(sorted(missing))}, got {sorted(scores)}")
    values = dict(scores)
    values["flatness"] = 1.0 - scores["uniformity"]
    return _unit(sum(weight * values[name] for name, weight in QUALITY_WEIGHTS.items()))


def _unit(value: float) -> float:
    return float(min(1.0, max(0.0, value)))

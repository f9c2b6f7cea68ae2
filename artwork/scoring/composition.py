"""Composition of a frame: where its salient content sits against the rule of thirds, and how
symmetric it is (two of the annotations Netflix's AVA pipeline names).

Saliency is the spectral residual of Hou & Zhang (CVPR 2007), written here from the paper
(OpenCV's saliency module lives in opencv-contrib, which artwork does not install): the frame
at ``SALIENCY_WIDTH`` (64) pixels wide, per CIELAB channel ``log |F|`` minus its 3 x 3
box-filtered self, back through the inverse FFT (``cv2.dft``) with the original phase, squared
and scaled to a peak of 1; the channels' maps are summed (Hou & Zhang used luma alone, which
misses a red object on green of the same brightness), Gaussian-smoothed and scaled to [0, 1].
It lights up what stands out from the frame's overall statistics (a figure against grass, a
cat's eyes, a face against a wall), but less the inside of a large uniform object. About
0.3 ms a frame.

Coordinates below are fractions of the frame's width and height, (0, 0) top left.

=============== ==================================================================================
feature         definition
=============== ==================================================================================
saliency_thirds the saliency-weighted mean of a closeness map, in [0, 1]: per position,
                ``(point + line) / 2`` with ``point = max(0, 1 - d_point / CENTRE_DISTANCE)``
                (``d_point`` the distance to the nearest of the four thirds points,
                ``CENTRE_DISTANCE = hypot(1/6, 1/6)``: 1 on a thirds point, 0 at the centre) and
                ``line = max(0, 1 - d_line / (1/6))`` (``d_line`` the distance to the nearest
                thirds line). Weights are the saliency above its mean plus one standard
                deviation (the most salient part), so a textured background does not dilute
                the subject. A small subject on a thirds point scores about 0.75, in the centre
                0.3, at an edge 0.2; photographs and footage mostly 0.2 to 0.55.
symmetry        left-right mirror symmetry in [0, 1]: the correlation of the (slightly blurred)
                luma at 64 px wide with its mirror image, floored at 0. A centred, mirrored
                composition (a corridor, a face square to camera) scores 0.7 and more, most
                scenes 0.1 to 0.5. Flat frames have no composition and score 0 on both features.
=============== ==================================================================================

:func:`thirds_point_closeness` is also how ``face_thirds`` (``faces.py``) is measured, and
:func:`saliency_map` drives the saliency-aware crops of ``artwork.candidates.crops``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.scoring.base import FrameScorer, check_image

SALIENCY_WIDTH = 64
THIRDS = (1.0 / 3.0, 2.0 / 3.0)
CENTRE_DISTANCE = math.hypot(1.0 / 6.0, 1.0 / 6.0)
"""Distance from a thirds point to the frame centre (in fractions of width and height)."""
LINE_REACH = 1.0 / 6.0
"""Distance from a thirds line at which line closeness reaches 0 (halfway to edge or centre)."""
_FLAT_STD = 1.0  # luma std (0..255) under which a frame has no structure to compose


def thirds_point_closeness(
    x: float | NDArray[np.floating], y: float | NDArray[np.floating]
) -> NDArray[np.float64]:
    """Closeness of positions to the nearest rule-of-thirds point, in [0, 1].

    Args:
        x: horizontal position(s) as a fraction of the width.
        y: vertical position(s) as a fraction of the height.

    Returns:
        ``max(0, 1 - d / CENTRE_DISTANCE)`` per position: 1 on a thirds point, 0 at the centre.
    """
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dx = np.minimum(np.abs(xs - THIRDS[0]), np.abs(xs - THIRDS[1]))
    dy = np.minimum(np.abs(ys - THIRDS[0]), np.abs(ys - THIRDS[1]))
    return np.clip(1.0 - np.hypot(dx, dy) / CENTRE_DISTANCE, 0.0, 1.0)


def thirds_line_closeness(
    x: float | NDArray[np.floating], y: float | NDArray[np.floating]
) -> NDArray[np.float64]:
    """Closeness of positions to the nearest of the four thirds lines, in [0, 1].

    Args:
        x: horizontal position(s) as a fraction of the width.
        y: vertical position(s) as a fraction of the height.

    Returns:
        ``max(0, 1 - d / LINE_REACH)`` per position.
    """
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    distance = np.minimum.reduce([np.abs(v - t) for v in (xs, ys) for t in THIRDS])
    return np.clip(1.0 - distance / LINE_REACH, 0.0, 1.0)


def saliency_map(image: Image, *, width: int = SALIENCY_WIDTH) -> NDArray[np.float32]:
    """Spectral-residual saliency of an RGB frame, ``width`` pixels wide, scaled to [0, 1].

    Args:
        image: RGB ``uint8`` array of shape (height, width, 3).
        width: width of the map (its height keeps the frame's aspect ratio); >= 8.

    Returns:
        ``float32`` map; all zeros for a flat frame.
    """
    check_image(image)
    if width < 8:
        raise ValueError(f"width must be >= 8, got {width}")
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    interpolation = cv2.INTER_AREA if image.shape[1] > width else cv2.INTER_LINEAR
    small = np.asarray(cv2.resize(image, (width, height), interpolation=interpolation), np.uint8)
    lab = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2LAB), np.float32)
    saliency = np.zeros((height, width), np.float32)
    for channel in range(3):
        plane = lab[..., channel]
        if float(plane.std()) >= _FLAT_STD:
            saliency += _spectral_residual(plane)
    saliency = np.asarray(
        cv2.GaussianBlur(saliency, (0, 0), width / 24.0, borderType=cv2.BORDER_REFLECT), np.float32
    )
    peak = float(saliency.max())
    if peak <= 0.0:
        return np.zeros((height, width), np.float32)
    return np.asarray(saliency / peak, np.float32)


def _spectral_residual(plane: NDArray[np.float32]) -> NDArray[np.float32]:
    """Hou & Zhang's saliency of one channel, unsmoothed, scaled to a peak of 1."""
    spectrum = np.asarray(cv2.dft(plane, flags=cv2.DFT_COMPLEX_OUTPUT), np.float32)
    amplitude = _magnitude(spectrum) + 1e-6
    log_amplitude = np.log(amplitude)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3), borderType=cv2.BORDER_REPLICATE)
    # Same phase, residual amplitude: scale each coefficient by new / old amplitude.
    spectrum *= (np.exp(residual) / amplitude)[..., None]
    back = cv2.idft(spectrum, flags=cv2.DFT_COMPLEX_OUTPUT | cv2.DFT_SCALE)
    energy = np.square(_magnitude(np.asarray(back, np.float32)))
    peak = float(energy.max())
    return np.asarray(energy / peak if peak > 0.0 else energy, np.float32)


def _magnitude(spectrum: NDArray[np.float32]) -> NDArray[np.float32]:
    """|re + i im| of a two-channel spectrum, the same for the same values wherever they lie.

    ``cv2.magnitude`` on the strided channel views gave results differing in the last bit
    from call to call (its vector path depends on where the array's memory starts); numpy's
    element-wise float32 operations are exactly rounded whichever path runs.
    """
    real, imaginary = spectrum[..., 0], spectrum[..., 1]
    return np.asarray(np.sqrt(real * real + imaginary * imaginary), np.float32)


class CompositionScorer(FrameScorer):
    """``saliency_thirds`` and ``symmetry`` of the module docstring."""

    name: ClassVar[str] = "composition"

    def score(self, image: Image) -> dict[str, float]:
        """``{"saliency_thirds", "symmetry"}`` of one RGB frame, each in [0, 1].

        Args:
            image: RGB ``uint8`` array of shape (height, width, 3).
        """
        check_image(image)
        saliency = saliency_map(image)
        weights = np.maximum(saliency - saliency.mean() - saliency.std(), 0.0)
        total = float(weights.sum())
        kernel = _thirds_kernel((saliency.shape[0], saliency.shape[1]))
        thirds = float((weights * kernel).sum() / total) if total else 0.0
        return {"saliency_thirds": _unit(thirds), "symmetry": _unit(symmetry(image))}


def symmetry(image: Image) -> float:
    """Left-right mirror symmetry of an RGB frame in [0, 1] (see the module docstring).

    Args:
        image: RGB ``uint8`` array of shape (height, width, 3).
    """
    luma = cv2.GaussianBlur(_small_luma(image, SALIENCY_WIDTH), (0, 0), 1.0)
    if float(luma.std()) < _FLAT_STD:
        return 0.0
    mirrored = luma[:, ::-1]
    a, b = luma - luma.mean(), mirrored - mirrored.mean()
    return max(0.0, float((a * b).sum() / math.sqrt(float((a * a).sum() * (b * b).sum()))))


def _small_luma(image: Image, width: int) -> NDArray[np.float32]:
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    interpolation = cv2.INTER_AREA if image.shape[1] > width else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(luma, (width, height), interpolation=interpolation), np.float32)


@lru_cache(maxsize=16)
def _thirds_kernel(shape: tuple[int, int]) -> NDArray[np.float64]:
    height, width = shape
    y, x = np.mgrid[0:height, 0:width]
    u, v = (x + 0.5) / width, (y + 0.5) / height
    return 0.5 * (thirds_point_closeness(u, v) + thirds_line_closeness(u, v))


def _unit(value: float) -> float:
    # Rounded to 1e-9: OpenCV's threaded and single-threaded paths (which one runs depends on
    # how busy its pool is) differ around 1e-11, and a frame must always score the same.
    return round(float(min(1.0, max(0.0, value))), 9)

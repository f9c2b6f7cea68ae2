"""Face- and saliency-aware crops of a variant for each artwork format (16:9 rows, 2:3 posters).

For each format :func:`crop_variant` takes the *largest* window of the format's aspect ratio
that fits in the source, so only one axis is free (horizontal for a 2:3 poster from a
landscape frame, vertical for a 16:9 banner from a portrait one), and slides it along that
axis to the position that

1. keeps every detected face inside, with a margin of ``FACE_MARGIN`` (30%) of the face's size
   on each side (Haar boxes stop at the brows and mouth); if they cannot all fit, the largest
   face alone; if even that face is larger than the window, the window is centred on it;
2. among those positions, maximises ``inside + THIRDS_WEIGHT * thirds``: ``inside`` is the
   share of the frame's interest (spectral-residual saliency above its mean, plus each face
   weighted like the whole saliency mass, since faces are what artwork is about) inside the
   window, and ``thirds`` the closeness of the interest's centre of mass inside the window to
   the nearest thirds line along the free axis (1 on the line, 0 a sixth of the window away).
   ``THIRDS_WEIGHT = 0.25``: keeping the subject comes first, placing it second.

A flat frame with no faces is cropped in the centre. The window is then resized to the
format's size (``INTER_AREA`` when shrinking; ``INTER_CUBIC`` when the source is smaller than
the format, so a small source is upscaled rather than refused).

Faces are found with :class:`~artwork.scoring.faces.FaceDetector` at up to 320 px (more
thorough than the per-frame scorer; a crop is made for a handful of variants, not every frame).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.scoring.base import check_image
from artwork.scoring.composition import LINE_REACH, THIRDS, saliency_map
from artwork.scoring.faces import Face, FaceDetector

CROP_FORMATS: dict[str, tuple[int, int]] = {"16:9": (1280, 720), "2:3": (600, 900)}
"""Artwork formats: name to output ``(width, height)`` in pixels."""
FACE_MARGIN = 0.3
THIRDS_WEIGHT = 0.25
POSITIONS = 129
"""Window positions tried along the free axis (plus the face-aligned ones)."""

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Crop:
    """One format's crop of a variant.

    Attributes:
        box: ``(x, y, width, height)`` of the window in the source image's pixels.
        image: the window resized to the format's size, RGB ``uint8``.
    """

    box: Box
    image: Image


def crop_variant(
    image: Image,
    *,
    formats: Mapping[str, tuple[int, int]] | None = None,
    detector: FaceDetector | None = None,
) -> dict[str, Crop]:
    """Crop a still for every artwork format (see the module docstring).

    Args:
        image: the still, RGB ``uint8`` of shape (height, width, 3), any size.
        formats: name to output ``(width, height)``; default :data:`CROP_FORMATS`.
        detector: face detector; default one searching the still at up to 320 px.

    Returns:
        ``{format name: Crop}`` in the order of ``formats``.
    """
    check_image(image)
    formats = MappingProxyType(dict(CROP_FORMATS)) if formats is None else formats
    for name, size in formats.items():
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"formats[{name!r}] must be (width, height) >= 1, got {size}")
    detector = detector or _crop_detector()
    faces = detector.detect(image)
    saliency = saliency_map(image)
    crops = {}
    for name, (width, height) in formats.items():
        box = best_window(image.shape[1], image.shape[0], width / height, faces, saliency)
        crops[name] = Crop(box, _resize(image, box, (width, height)))
    return crops


def best_window(
    width: int,
    height: int,
    aspect: float,
    faces: Sequence[Face],
    saliency: NDArray[np.float32],
) -> Box:
    """The largest ``aspect`` window in a ``width`` x ``height`` frame, placed as the module
    docstring says.

    Args:
        width: frame width in pixels.
        height: frame height in pixels.
        aspect: window width / height, > 0.
        faces: faces in the frame's pixels.
        saliency: saliency map of the frame, any resolution with the frame's aspect.

    Returns:
        ``(x, y, w, h)`` in the frame's pixels.
    """
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be >= 1, got {width} x {height}")
    if not aspect > 0:
        raise ValueError(f"aspect must be > 0, got {aspect}")
    if width / height >= aspect:
        window = (max(1, min(width, round(height * aspect))), height)
    else:
        window = (width, max(1, min(height, round(width / aspect))))
    horizontal = window[0] < width
    if not horizontal and window[1] == height:
        return 0, 0, width, height
    length, size = (width, window[0]) if horizontal else (height, window[1])
    spans = [
        (f.box[0], f.box[2]) if horizontal else (f.box[1], f.box[3])
        for f in sorted(faces, key=lambda f: -f.area)
    ]
    interest = _interest(saliency, length, horizontal, spans)
    offset = _place(interest, size, spans)
    return (offset, 0, *window) if horizontal else (0, offset, *window)


def _interest(
    saliency: NDArray[np.float32], length: int, horizontal: bool, spans: list[tuple[int, int]]
) -> NDArray[np.float64]:
    """Interest per pixel along the free axis: saliency above its mean, plus the faces."""
    weights = np.maximum(saliency.astype(np.float64) - float(saliency.mean()), 0.0)
    profile = weights.sum(axis=0 if horizontal else 1)
    positions = (np.arange(length) + 0.5) * len(profile) / length - 0.5
    interest = np.maximum(np.interp(positions, np.arange(len(profile)), profile), 0.0)
    face_mass = max(float(interest.sum()), 1.0)
    for start, extent in spans:
        lo, hi = max(0, start), min(length, start + extent)
        if hi > lo:
            interest[lo:hi] += face_mass / (hi - lo)
    return interest


def _place(interest: NDArray[np.float64], size: int, spans: list[tuple[int, int]]) -> int:
    """The best window offset along the free axis (module docstring, steps 1 and 2)."""
    length = len(interest)
    last = length - size
    low, high = 0, last
    for kept in (spans, spans[:1]):  # all faces, else the largest one
        if not kept:
            break
        lo = max(start + extent + round(FACE_MARGIN * extent) for start, extent in kept) - size
        hi = min(start - round(FACE_MARGIN * extent) for start, extent in kept)
        lo, hi = max(lo, 0), min(hi, last)
        if lo <= hi:
            low, high = lo, hi
            break
    else:  # the largest face is wider than the window: centre on it
        start, extent = spans[0]
        return int(min(max(round(start + extent / 2 - size / 2), 0), last))
    total = float(interest.sum())
    if total <= 0.0:
        return (low + high) // 2
    cumulative = np.concatenate([[0.0], np.cumsum(interest)])
    moment = np.concatenate([[0.0], np.cumsum(interest * (np.arange(length) + 0.5))])
    offsets = np.unique(np.round(np.linspace(low, high, min(POSITIONS, high - low + 1))))
    offsets = offsets.astype(int)
    inside = cumulative[offsets + size] - cumulative[offsets]
    centre = (moment[offsets + size] - moment[offsets]) / np.maximum(inside, 1e-12)
    relative = (centre - offsets) / size
    distance = np.min([np.abs(relative - t) for t in THIRDS], axis=0)
    thirds = np.where(inside > 0, np.clip(1.0 - distance / LINE_REACH, 0.0, 1.0), 0.0)
    score = inside / total + THIRDS_WEIGHT * thirds
    best = float(score.max())
    # Among equally good offsets take the one nearest the middle of the allowed range.
    ties = offsets[score >= best - 1e-9]
    return int(ties[np.argmin(np.abs(ties - (low + high) / 2))])


@lru_cache(maxsize=1)
def _crop_detector() -> FaceDetector:
    """One shared detector (its cascades load once; it keeps one copy per thread)."""
    return FaceDetector(frontal_width=320, profile_width=240)


def _resize(image: Image, box: Box, size: tuple[int, int]) -> Image:
    x, y, w, h = box
    window = image[y : y + h, x : x + w]
    shrinking = size[0] <= w and size[1] <= h
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(window, size, interpolation=interpolation), np.uint8)

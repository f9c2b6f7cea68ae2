"""The two scoring interfaces: per-frame scorers and content embedders.

- A :class:`FrameScorer` turns one RGB frame into named scores, each in [0, 1] unless the scorer
  documents a count (``face_count``): ``QualityScorer`` in ``quality.py``, ``TextScorer`` in
  ``text.py``, ``FaceScorer`` in ``faces.py``, ``CompositionScorer`` in ``composition.py``;
  ``registry.default_frame_scorers`` lists the ones the extractor runs. Features are documented
  in each module's docstring and in ``docs/scoring.md``.
- An :class:`Embedder` turns a batch of RGB frames into L2-normalised vectors, so a dot product
  is a cosine similarity (``MobileNetV2Embedder`` in ``mobilenet.py``, ``ClipEmbedder`` in
  ``clip.py``; ``registry.py`` picks one by name). Its :attr:`Embedder.name` identifies model
  *and* weights and is stored with every variant: embeddings are only comparable under the
  same name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image


class FrameScorer(ABC):
    """Scores one frame at a time."""

    name: ClassVar[str]
    """Short identifier of the scorer, e.g. ``"quality"``."""

    @abstractmethod
    def score(self, image: Image) -> dict[str, float]:
        """Named scores of one frame.

        Args:
            image: RGB ``uint8`` array of shape (height, width, 3).

        Returns:
            Feature name to value; the implementation documents each feature's range.
        """


class Embedder(ABC):
    """Maps images to L2-normalised content vectors."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Model and weights, e.g. ``"mobilenet_v2-imagenet"`` or ``"open_clip:ViT-B-32:<sha>"``."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each embedding."""

    @abstractmethod
    def embed(self, images: Sequence[Image]) -> NDArray[np.float32]:
        """Embed a batch of images (batched internally; any number, any sizes).

        Args:
            images: RGB ``uint8`` arrays of shape (height, width, 3).

        Returns:
            ``float32`` array of shape ``(len(images), dim)`` whose rows have unit L2 norm.
        """


def check_image(image: Image, *, argument: str = "image") -> None:
    """Raise ``ValueError`` unless ``image`` is an RGB ``uint8`` array of shape (h, w, 3).

    Args:
        image: the array to check.
        argument: the argument's name, for the message.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{argument} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{argument} must have dtype uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"{argument} must have shape (height, width, 3), got {image.shape}")


def l2_normalise(vectors: NDArray[np.floating], *, eps: float = 1e-12) -> NDArray[np.float32]:
    """Rows scaled to unit L2 norm (an all-zero row stays zero), as ``float32``.

    Args:
        vectors: array of shape (n, dim).
        eps: norms below this count as zero.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, eps)).astype(np.float32, copy=False)


def fit_width(image: Image, max_width: int) -> Image:
    """``image`` downscaled (``INTER_AREA``) to ``max_width`` pixels wide, or itself if narrower.

    Args:
        image: RGB or grey ``uint8`` array.
        max_width: the widest result, >= 1.
    """
    if max_width < 1:
        raise ValueError(f"max_width must be >= 1, got {max_width}")
    height, width = image.shape[:2]
    if width <= max_width:
        return image
    size = (max_width, max(1, round(height * max_width / width)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)

"""How much of a frame is covered by lines of text: credits, title cards, signs, subtitles.

One feature, in [0, 1], higher is more text:

============== ===================================================================================
feature        definition
============== ===================================================================================
text_heaviness ``min(1, covered / TEXT_AREA_SCALE)`` with ``TEXT_AREA_SCALE = 0.2``: ``covered``
               is the fraction of the frame inside boxes that look like lines of text. Measured at
               320 px: natural photos and footage 0 to 0.13, one subtitle line about 0.1, two
               lines of rendered credits 0.5, a screen of credits or a printed page 1.
============== ===================================================================================

The detector is the classic morphological one (the method behind many OpenCV text-detection
recipes; no model): text is dense, high-contrast strokes packed in horizontal runs.

1. Morphological gradient of luma (3 x 3 ellipse): strokes light up on both edges.
2. Binarise with Otsu, but never below a gradient of ``MIN_GRADIENT`` (40 levels), so the
   soft texture of a flat frame is not turned into strokes.
3. Close with a ``LINK_KERNEL`` (9 x 1) rectangle, joining the letters of a word and the words
   of a line into one component.
4. Keep the components shaped like a line of text: 5 px to a quarter of the frame tall, at
   least 12 px and 1.5 heights wide, at least ``MIN_FILL`` (45%) of their box filled, and
   between 20% and 90% of their box covered by gradient pixels (letters have gaps; a solid
   edge band has none).

The frame is scored at most ``max_width`` (320) pixels wide so the pixel limits above mean the
same thing for every source. About 0.4 ms per 320 x 180 frame.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from artwork.domain import Image
from artwork.scoring.base import FrameScorer, check_image, fit_width

TEXT_AREA_SCALE = 0.2
MIN_GRADIENT = 40.0
LINK_KERNEL = (9, 1)
MIN_FILL = 0.45
_GRADIENT_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
_LINK = cv2.getStructuringElement(cv2.MORPH_RECT, LINK_KERNEL)


class TextScorer(FrameScorer):
    """``text_heaviness`` of the module docstring.

    Args:
        max_width: images wider than this are downscaled before scoring (the box limits are in
            pixels of this scale).
    """

    name: ClassVar[str] = "text"

    def __init__(self, *, max_width: int = 320) -> None:
        if max_width < 32:
            raise ValueError(f"max_width must be >= 32, got {max_width}")
        self.max_width = max_width

    def score(self, image: Image) -> dict[str, float]:
        """``{"text_heaviness": value in [0, 1]}`` of one RGB frame.

        Args:
            image: RGB ``uint8`` array of shape (height, width, 3).
        """
        check_image(image)
        luma = np.asarray(
            cv2.cvtColor(fit_width(image, self.max_width), cv2.COLOR_RGB2GRAY), np.uint8
        )
        covered = sum(w * h for _, _, w, h in text_lines(luma)) / luma.size
        return {"text_heaviness": float(min(1.0, covered / TEXT_AREA_SCALE))}


def text_lines(luma: Image) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the regions of a grey image that look like lines of text.

    Args:
        luma: grey ``uint8`` image (2-D).
    """
    height = luma.shape[0]
    if min(luma.shape[:2]) < 5:
        return []
    gradient = cv2.morphologyEx(luma, cv2.MORPH_GRADIENT, _GRADIENT_KERNEL)
    otsu, strokes = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if otsu < MIN_GRADIENT:
        _, strokes = cv2.threshold(gradient, MIN_GRADIENT, 255, cv2.THRESH_BINARY)
    linked = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, _LINK)
    count, _, stats, _ = cv2.connectedComponentsWithStats(linked, connectivity=8)
    boxes = []
    for x, y, w, h, area in stats[1:count]:
        if not 5 <= h <= height / 4 or w < max(12, 1.5 * h):
            continue
        if area / (w * h) < MIN_FILL:
            continue
        ink = float(np.count_nonzero(strokes[y : y + h, x : x + w])) / (w * h)
        if 0.2 < ink < 0.9:
            boxes.append((int(x), int(y), int(w), int(h)))
    return boxes

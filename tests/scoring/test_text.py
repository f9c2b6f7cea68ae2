"""TextScorer: rendered credits and a printed page score high, photographs and footage low."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as photos

from artwork.scoring.base import FrameScorer
from artwork.scoring.quality import is_bad_frame
from artwork.scoring.text import TextScorer, text_lines

SCORER = TextScorer()
CREDITS = (
    "Directed by A. Person",
    "Produced by Another Name",
    "Music by Some Composer",
    "Edited by The Editor",
    "Camera by Someone Else",
    "Sound by Somebody",
)


def _small(image: np.ndarray, width: int = 320) -> np.ndarray:
    height = round(image.shape[0] * width / image.shape[1])
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def _rendered(background: np.ndarray, lines: tuple[str, ...], *, first_row: int = 0) -> np.ndarray:
    frame = background.copy()
    for i, line in enumerate(lines):
        origin = (20, 30 + 24 * (first_row + i))
        cv2.putText(frame, line, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
    return frame


def _grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def test_is_a_frame_scorer_with_one_feature_in_unit_range(rng: np.random.Generator) -> None:
    assert isinstance(SCORER, FrameScorer) and TextScorer.name == "text"
    for image in (
        photos.astronaut(),
        rng.integers(0, 256, (90, 160, 3), dtype=np.uint8),
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((4, 300, 3), np.uint8),
    ):
        scores = SCORER.score(image)
        assert list(scores) == ["text_heaviness"]
        assert 0.0 <= scores["text_heaviness"] <= 1.0


def test_a_screen_of_credits_is_text_heavy_and_a_bad_frame() -> None:
    black = np.zeros((180, 320, 3), np.uint8)
    credits = SCORER.score(_rendered(black, CREDITS))["text_heaviness"]
    two_lines = SCORER.score(_rendered(black, CREDITS[:2]))["text_heaviness"]
    assert credits == 1.0
    assert 0.4 < two_lines < credits
    over_a_photo = _rendered(_small(photos.chelsea())[:180], CREDITS)
    assert SCORER.score(over_a_photo)["text_heaviness"] > 0.8
    frame = {"brightness": 0.4, "uniformity": 0.3, "sharpness": 0.9, "text_heaviness": credits}
    assert is_bad_frame(frame) == "text"


def test_a_printed_page_is_text_heavy() -> None:
    assert SCORER.score(_grey(photos.page()))["text_heaviness"] > 0.8


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket", "camera"])
def test_photographs_have_little_text(name: str) -> None:
    assert SCORER.score(_grey(getattr(photos, name)()))["text_heaviness"] < 0.2


def test_a_subtitle_line_is_light_text() -> None:
    frame = _rendered(_small(photos.coffee())[:180], ("I never said that.",), first_row=5)
    assert 0.0 < SCORER.score(frame)["text_heaviness"] < 0.4


def test_text_lines_are_boxes_around_the_rendered_lines() -> None:
    frame = _rendered(np.zeros((180, 320, 3), np.uint8), CREDITS[:3])
    boxes = text_lines(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    rows = sorted({round((y + h / 2 - 25) / 24) for _, y, _, h in boxes})
    assert rows == [0, 1, 2]
    assert all(w > 1.5 * h for _, _, w, h in boxes)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="max_width must be >= 32, got 8"):
        TextScorer(max_width=8)
    with pytest.raises(ValueError, match="image must have dtype uint8"):
        SCORER.score(np.zeros((10, 10, 3), np.float32))

"""Crops per artwork format: the face stays in, an off-centre subject lands on a thirds line,
portrait, landscape and tiny sources all give full-size crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as photos

from artwork.candidates.crops import CROP_FORMATS, Crop, best_window, crop_variant
from artwork.scoring.faces import Face, FaceDetector


def _field(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    grass = np.full((height, width, 3), (70, 110, 60), np.float64)
    return np.clip(grass + rng.normal(0, 6, grass.shape), 0, 255).astype(np.uint8)


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _check(crops: dict[str, Crop], source: np.ndarray) -> None:
    assert list(crops) == list(CROP_FORMATS)
    height, width = source.shape[:2]
    for name, crop in crops.items():
        out_w, out_h = CROP_FORMATS[name]
        assert crop.image.shape == (out_h, out_w, 3) and crop.image.dtype == np.uint8
        x, y, w, h = crop.box
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height and w >= 1 and h >= 1
        assert w == width or h == height, "the largest window that fits"
        if min(w, h) >= 50:
            assert w / h == pytest.approx(out_w / out_h, rel=0.02)


def test_the_formats() -> None:
    assert CROP_FORMATS == {"16:9": (1280, 720), "2:3": (600, 900)}


def test_the_astronauts_face_stays_inside_both_crops() -> None:
    photo = photos.astronaut()  # square: the 2:3 window slides sideways, the 16:9 one down
    crops = crop_variant(photo)
    _check(crops, photo)
    (face,) = FaceDetector(frontal_width=320).detect(photo)
    for crop in crops.values():
        assert _inside(face.box, crop.box)
    x, _, w, _ = crops["2:3"].box
    margin = 0.3 * face.box[2]
    assert x <= face.box[0] - margin and face.box[0] + face.box[2] + margin <= x + w
    # The crop is the source's pixels, resized.
    x, y, w, h = crops["2:3"].box
    expected = cv2.resize(photo[y : y + h, x : x + w], (600, 900), interpolation=cv2.INTER_CUBIC)
    assert np.abs(crops["2:3"].image.astype(int) - expected).mean() < 1.0


@pytest.mark.parametrize("blob_x", [1000, 250])
def test_an_off_centre_subject_lands_on_a_thirds_line(
    blob_x: int, rng: np.random.Generator
) -> None:
    frame = _field(1280, 720, rng)
    cv2.circle(frame, (blob_x, 300), 60, (240, 40, 40), -1)  # red on green, same luma
    crops = crop_variant(frame)
    _check(crops, frame)
    assert crops["16:9"].box == (0, 0, 1280, 720)
    x, _, w, _ = crops["2:3"].box
    assert x <= blob_x - 60 and blob_x + 60 <= x + w  # the whole subject is in
    relative = (blob_x - x) / w
    assert min(abs(relative - 1 / 3), abs(relative - 2 / 3)) < 0.1
    assert abs(relative - 0.5) > 0.1  # not simply centred


def test_portrait_landscape_and_panorama_sources(rng: np.random.Generator) -> None:
    portrait = np.ascontiguousarray(np.rot90(photos.coffee()))  # 400 x 600: exactly 2:3
    crops = crop_variant(portrait)
    _check(crops, portrait)
    assert crops["2:3"].box == (0, 0, 400, 600)
    assert crops["16:9"].box[2] == 400 and crops["16:9"].box[0] == 0
    landscape = photos.chelsea()  # 451 x 300
    _check(crop_variant(landscape), landscape)
    panorama = _field(1000, 100, rng)
    crops = crop_variant(panorama)
    _check(crops, panorama)
    assert crops["2:3"].box[3] == 100 and crops["2:3"].box[2] == 67


@pytest.mark.parametrize("shape", [(13, 13), (7, 5), (1, 1), (90, 160)])
def test_small_sources_are_upscaled_not_refused(
    shape: tuple[int, int], rng: np.random.Generator
) -> None:
    source = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    crops = crop_variant(source)
    _check(crops, source)


def test_a_flat_frame_is_cropped_in_the_centre() -> None:
    flat = np.full((720, 1280, 3), 128, np.uint8)
    assert crop_variant(flat)["2:3"].box == (400, 0, 480, 720)


def test_window_placement_with_faces() -> None:
    saliency = np.zeros((36, 64), np.float32)
    # Two faces too far apart for one 2:3 window of a 1280 x 720 frame: the larger one wins.
    left, right = Face((100, 200, 100, 100), frontal=True), Face((1050, 200, 150, 150), True)
    x, y, w, h = best_window(1280, 720, 2 / 3, [left, right], saliency)
    assert (y, w, h) == (0, 480, 720) and x <= 1050 - 45 and x + w >= 1200 + 45
    # Two that fit together both stay in.
    near = Face((900, 200, 100, 100), frontal=False)
    x, _, w, _ = best_window(1280, 720, 2 / 3, [near, right], saliency)
    assert x <= 900 - 30 and x + w >= 1200 + 45
    # A face wider than the window: the window is centred on it.
    huge = Face((300, 0, 700, 700), frontal=True)
    x, _, w, _ = best_window(1280, 720, 2 / 3, [huge], saliency)
    assert x == 650 - 240


def test_arguments_are_checked() -> None:
    photo = photos.chelsea()
    with pytest.raises(ValueError, match=r"formats\['thumb'\] must be \(width, height\)"):
        crop_variant(photo, formats={"thumb": (0, 10)})
    with pytest.raises(ValueError, match="image must have dtype uint8"):
        crop_variant(photo.astype(np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aspect must be > 0"):
        best_window(10, 10, 0.0, [], np.zeros((8, 8), np.float32))
    assert crop_variant(photo, formats={"square": (64, 64)})["square"].image.shape == (64, 64, 3)

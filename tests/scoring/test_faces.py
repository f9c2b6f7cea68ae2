"""Faces: the astronaut's face is found where it is, face-free photos and footage stay empty,
real head-and-shoulders footage reads as a close-up; features, suppression, arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as photos

from artwork.errors import ChecksumMismatchError, ModelError
from artwork.scoring.base import FrameScorer
from artwork.scoring.faces import (
    CASCADE_SHA256,
    FEATURES,
    Face,
    FaceDetector,
    FaceScorer,
    cascade_path,
    face_features,
    suppress,
)
from artwork.scoring.manifest import load_manifest, sha256_file

SCORER = FaceScorer()


def _small(image: np.ndarray, width: int = 320) -> np.ndarray:
    height = round(image.shape[0] * width / image.shape[1])
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def test_the_astronauts_face_is_found_where_it_is() -> None:
    photo = photos.astronaut()  # 512 x 512; her face spans about x 175-275, y 65-170
    faces = FaceDetector().detect(photo)
    assert len(faces) == 1 and faces[0].frontal
    cx, cy = faces[0].centre
    assert 190 < cx < 260 and 80 < cy < 150
    assert 60 < faces[0].box[2] < 140
    mirrored = FaceDetector().detect(np.ascontiguousarray(photo[:, ::-1]))
    assert len(mirrored) == 1 and abs(mirrored[0].centre[0] - (512 - cx)) < 15


def test_face_features_of_the_astronaut() -> None:
    scores = SCORER.score(_small(photos.astronaut()))
    assert isinstance(SCORER, FrameScorer) and FaceScorer.name == "faces"
    assert tuple(scores) == FEATURES
    assert scores["face_count"] == 1.0 and scores["face_frontal"] == 1.0
    assert 0.02 < scores["face_area"] < 0.08  # a medium close-up, not a full-frame face
    assert 0.0 < scores["face_thirds"] <= 1.0


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket", "camera", "brick", "grass"])
def test_face_free_photos_have_no_faces(name: str) -> None:
    photo = getattr(photos, name)()
    photo = np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo
    assert SCORER.score(_small(photo)) == dict.fromkeys(FEATURES, 0.0)


def test_flat_random_and_tiny_frames_have_no_faces(rng: np.random.Generator) -> None:
    for image in (
        np.zeros((180, 320, 3), np.uint8),
        rng.integers(0, 256, (180, 320, 3), dtype=np.uint8),
        np.zeros((7, 5, 3), np.uint8),
    ):
        assert SCORER.score(image)["face_count"] == 0.0


def test_real_footage_a_head_and_shoulders_shot(
    clip_frames: Callable[[str, int], list[np.ndarray]],
) -> None:
    frames = clip_frames("carphone_pristine", 8)
    scores = [SCORER.score(frame) for frame in frames]
    found = [s for s in scores if s["face_count"] >= 1]
    assert len(found) >= len(frames) // 2  # the head turns and tilts: Haar misses some
    assert all(s["face_count"] == 1 and s["face_area"] > 0.08 for s in found)


def test_real_footage_without_people(clip_frames: Callable[[str, int], list[np.ndarray]]) -> None:
    for frame in clip_frames("bigbuckbunny", 6) + clip_frames("bikes", 6):
        assert SCORER.score(frame)["face_count"] == 0.0


def test_features_from_faces() -> None:
    assert face_features([], 320, 180) == dict.fromkeys(FEATURES, 0.0)
    # A 48 x 48 profile face centred on the upper-left thirds point of a 300 x 150 frame.
    profile = Face((100 - 24, 50 - 24, 48, 48), frontal=False)
    small = Face((250, 120, 20, 20), frontal=False)
    scores = face_features([small, profile], 300, 150)
    assert scores["face_count"] == 2.0 and scores["face_frontal"] == 0.5
    assert scores["face_area"] == pytest.approx(48 * 48 / (300 * 150))
    assert scores["face_thirds"] == pytest.approx(1.0)
    centred = face_features([Face((130, 55, 40, 40), frontal=True)], 300, 150)
    assert centred["face_thirds"] == pytest.approx(0.0) and centred["face_frontal"] == 1.0


def test_suppression_keeps_frontal_then_larger() -> None:
    frontal = Face((100, 100, 50, 50), frontal=True)
    same_profile = Face((105, 98, 56, 56), frontal=False)  # IoU > 0.3 with the frontal
    nested = Face((110, 110, 20, 20), frontal=True)  # wholly inside it
    elsewhere = Face((10, 10, 30, 30), frontal=False)
    kept = suppress([same_profile, nested, elsewhere, frontal])
    assert kept == [frontal, elsewhere]


def test_arguments_and_missing_cascades_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="frontal_width must be >= 20, got 10"):
        FaceDetector(frontal_width=10)
    with pytest.raises(ValueError, match="profile_scale_factor must be in"):
        FaceDetector(profile_scale_factor=1.0)
    with pytest.raises(ValueError, match="frontal_neighbours must be >= 1"):
        FaceDetector(frontal_neighbours=0)
    with pytest.raises(ValueError, match="image must have shape"):
        SCORER.score(np.zeros((10, 10), np.uint8))
    assert cascade_path("haarcascade_profileface.xml").is_file()
    with pytest.raises(ModelError, match="opencv-python-headless<5"):
        cascade_path("no_such_cascade.xml")
    monkeypatch.setattr(cv2.data, "haarcascades", str(Path("/nonexistent")) + "/")
    with pytest.raises(ModelError, match=r"cv2\.data\.haarcascades"):
        FaceDetector()


def test_the_cascades_are_the_ones_in_the_manifest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = load_manifest()
    for name, digest in CASCADE_SHA256.items():
        entry = manifest[name.removesuffix(".xml")]
        assert entry.sha256 == digest and entry.module == "cv2" and "Intel" in entry.licence
        assert entry.resolve() == cascade_path(name)
        assert sha256_file(entry.resolve()) == digest
    fake = tmp_path / "haarcascade_frontalface_alt2.xml"
    fake.write_text("<opencv_storage/>")
    (tmp_path / "haarcascade_profileface.xml").write_text("<opencv_storage/>")
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(ChecksumMismatchError, match="haarcascade_frontalface_alt2"):
        FaceDetector()

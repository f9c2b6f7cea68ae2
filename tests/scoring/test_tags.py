"""Tags: the bank file, the MobileNetV2 ImageNet mapping on real photographs and footage, the
frame-derived tags, the floor, the registry. (CLIP zero-shot plumbing is in test_embedders.py,
with the tiny random model.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from skimage import data as photos

from artwork.config import Settings
from artwork.errors import ModelError
from artwork.scoring.base import Embedder, l2_normalise
from artwork.scoring.mobilenet import MobileNetV2Embedder
from artwork.scoring.registry import default_frame_scorers
from artwork.scoring.tags import (
    TAGGERS,
    DerivedTagger,
    ImageNetTagger,
    create_tagger,
    default_tags_path,
    derived_tags,
    load_tag_bank,
    tagger_name_for,
)

BANK_TAGS = {
    "close_up_face",
    "group_of_people",
    "person",
    "animal",
    "vehicle",
    "action",
    "food",
    "landscape",
    "water",
    "sky_space",
    "city",
    "interior",
    "night",
    "text",
}


def _small(image: np.ndarray, width: int = 320) -> np.ndarray:
    image = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    height = round(image.shape[0] * width / image.shape[1])
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


@pytest.fixture(scope="module")
def tagger(
    mobilenet: MobileNetV2Embedder, tmp_path_factory: pytest.TempPathFactory
) -> ImageNetTagger:
    built = create_tagger(mobilenet, Settings(home=tmp_path_factory.mktemp("home")))
    assert isinstance(built, ImageNetTagger)
    return built


def _tags(tagger: ImageNetTagger, images: Sequence[np.ndarray]) -> list[dict[str, float]]:
    smalls = [_small(image) for image in images]
    return tagger.tag(smalls, np.zeros((len(smalls), 1), np.float32))


# --- the bank ---------------------------------------------------------------------------------
def test_the_bank_ships_the_agreed_tags() -> None:
    bank = load_tag_bank()
    assert bank.path == default_tags_path() and bank.version >= 1
    assert set(bank.names) == BANK_TAGS
    assert all(tag.prompts and tag.description for tag in bank.tags)
    assert all("{}" in template for template in bank.templates)


def test_the_mapping_is_real_imagenet(
    mobilenet: MobileNetV2Embedder, tagger: ImageNetTagger
) -> None:
    labels = mobilenet.labels
    mapped = {
        name: {labels[j] for j in np.flatnonzero(row)}
        for name, row in zip(tagger.bank.names, tagger.mapping, strict=True)
    }
    assert {"Egyptian cat", "tabby", "golden retriever", "goldfinch"} <= mapped["animal"]
    assert len(mapped["animal"]) == 398
    assert {"espresso", "pizza", "cheeseburger", "plate"} <= mapped["food"]
    assert "hay" not in mapped["food"]
    assert {"space shuttle", "airliner", "balloon"} <= mapped["sky_space"]
    assert {"moped", "sports car", "space shuttle", "canoe"} <= mapped["vehicle"]
    assert {"suit", "groom", "scuba diver"} <= mapped["person"]
    assert {"seashore", "lakeside", "speedboat"} <= mapped["water"]
    assert not mapped["close_up_face"] and not mapped["night"]  # derived, not classes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[tags.bad-name]\nprompts = ["x"]\n', "snake_case"),
        ("[tags.empty]\nprompts = []\n", "at least one non-empty prompt"),
        ('[tags.t]\nprompts = ["x"]\nimagenet_ranges = [[5, 2000]]\n', "imagenet range"),
        ('templates = ["no slot"]\n[tags.t]\nprompts = ["x"]\n', "must hold one"),
        ("version = 1\n", "defines no"),
        ("[tags\n", "not valid TOML"),
    ],
)
def test_malformed_banks_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tags.toml"
    path.write_text(content)
    with pytest.raises(ModelError, match=message):
        load_tag_bank(path)


def test_a_bank_naming_an_unknown_class_is_refused(
    tmp_path: Path, mobilenet: MobileNetV2Embedder
) -> None:
    path = tmp_path / "tags.toml"
    path.write_text('[tags.cat]\nprompts = ["a cat"]\nimagenet_classes = ["Egyptian kat"]\n')
    with pytest.raises(ModelError, match="'Egyptian kat', which is not an ImageNet class"):
        create_tagger(mobilenet, Settings(home=tmp_path, tags_file=path))
    with pytest.raises(ModelError, match="tag bank not found"):
        create_tagger(mobilenet, Settings(home=tmp_path, tags_file=tmp_path / "absent.toml"))


# --- MobileNetV2: ImageNet classes mapped onto the bank ---------------------------------------
def test_real_photographs_get_sensible_tags(tagger: ImageNetTagger) -> None:
    astronaut, chelsea, coffee, rocket, motorcycle = _tags(
        tagger,
        [
            photos.astronaut(),
            photos.chelsea(),
            photos.coffee(),
            photos.rocket(),
            photos.stereo_motorcycle()[0],
        ],
    )
    assert astronaut["person"] >= 0.9  # her face, her suit
    assert "close_up_face" not in astronaut  # head and shoulders: not a close-up
    assert chelsea["animal"] > 0.9 and list(chelsea) == ["animal"]
    assert coffee["food"] > 0.9
    assert "vehicle" in rocket and "sky_space" in rocket  # space shuttle, missile
    assert motorcycle["vehicle"] > 0.9
    for tags in (astronaut, chelsea, coffee, rocket, motorcycle):
        assert set(tags) <= BANK_TAGS
        assert all(tagger.floor <= v <= 1.0 for v in tags.values())
        assert list(tags.values()) == sorted(tags.values(), reverse=True)


def test_real_footage_gets_sensible_tags(
    tagger: ImageNetTagger, clip_frames: Callable[[str, int], list[np.ndarray]]
) -> None:
    bunny = tagger.tag(frames := clip_frames("bigbuckbunny", 4), np.zeros((len(frames), 1)))
    assert all(tags.get("animal", 0.0) > 0.8 for tags in bunny)
    bikes = tagger.tag(frames := clip_frames("bikes", 8), np.zeros((len(frames), 1)))
    assert sum("vehicle" in tags for tags in bikes) >= 4
    carphone = tagger.tag(frames := clip_frames("carphone_pristine", 4), np.zeros((4, 1)))
    assert all("person" in tags for tags in carphone)
    assert any(tags.get("close_up_face", 0.0) == 1.0 for tags in carphone)


def test_given_scores_replace_measuring_the_frame(tagger: ImageNetTagger, tmp_path: Path) -> None:
    photo = _small(photos.astronaut())
    scorers = default_frame_scorers(Settings(home=tmp_path))
    scores = {k: v for scorer in scorers for k, v in scorer.score(photo).items()}
    measured = tagger.tag([photo], np.zeros((1, 1)))[0]
    given = tagger.tag([photo], np.zeros((1, 1)), scores=[scores])[0]
    assert measured == given
    crowd = scores | {"face_count": 4.0, "face_area": 0.2, "brightness": 0.05}
    tags = tagger.tag([photo], np.zeros((1, 1)), scores=[crowd])[0]
    assert tags["group_of_people"] == 1.0 and tags["close_up_face"] == 1.0
    assert tags["night"] == 1.0


def test_derived_tags() -> None:
    assert derived_tags({}) == {}
    one = derived_tags({"face_count": 1, "face_area": 0.08, "face_frontal": 0.5})
    assert one == {"close_up_face": pytest.approx(0.5), "person": 0.7}
    assert derived_tags({"face_count": 2, "face_area": 0.01, "face_frontal": 1})[
        "group_of_people"
    ] == pytest.approx(0.5)
    assert derived_tags({"brightness": 0.5, "text_heaviness": 0.7}) == {"night": 0.0, "text": 0.7}


def test_the_floor_and_arguments(mobilenet: MobileNetV2Embedder, tmp_path: Path) -> None:
    bank = load_tag_bank()
    everything = ImageNetTagger(mobilenet, bank, floor=0.0)
    strict = ImageNetTagger(mobilenet, bank, floor=0.95)
    photo = _small(photos.astronaut())
    assert len(everything.tag([photo], np.zeros((1, 1)))[0]) > 4
    assert strict.tag([photo], np.zeros((1, 1)))[0] == {}
    assert everything.tag([], np.zeros((0, 1))) == []
    with pytest.raises(ValueError, match="floor must be in"):
        ImageNetTagger(mobilenet, bank, floor=1.5)
    with pytest.raises(ValueError, match=r"embeddings must have shape \(1, dim\)"):
        everything.tag([photo], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="scores must hold 1 mappings"):
        everything.tag([photo], np.zeros((1, 4)), scores=[])
    with pytest.raises(ValueError, match=r"images\[0\] must have dtype uint8"):
        everything.tag([photo.astype(np.float32)], np.zeros((1, 4)))  # type: ignore[list-item]


# --- registry -----------------------------------------------------------------------------------
class _PlainEmbedder(Embedder):
    """An embedder with neither classes nor text: only frame-derived tags apply."""

    name = "plain"
    dim = 3

    def embed(self, images: Sequence[np.ndarray]) -> NDArray[np.float32]:
        return l2_normalise(np.ones((len(images), 3)))


def test_create_tagger_fits_the_embedder(mobilenet: MobileNetV2Embedder, tmp_path: Path) -> None:
    assert set(TAGGERS) == {"zero_shot", "imagenet_map", "derived"}
    settings = Settings(home=tmp_path, tag_min_confidence=0.3)
    assert tagger_name_for(mobilenet) == "imagenet_map"
    built = create_tagger(mobilenet, settings)
    assert built.name == "imagenet_map:mobilenet_v2-imagenet" and built.floor == 0.3
    plain = create_tagger(_PlainEmbedder(), settings)
    assert isinstance(plain, DerivedTagger) and plain.name == "derived"
    photo = _small(photos.astronaut())
    assert set(plain.tag([photo], _PlainEmbedder().embed([photo]))[0]) == {"person"}
    with pytest.raises(ValueError, match="imagenet_map tags need an ImageNet classifier"):
        TAGGERS["imagenet_map"](_PlainEmbedder(), load_tag_bank(), 0.1)

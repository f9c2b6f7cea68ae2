"""The tagger contract, run over every kind of tagger (with stand-ins for the models)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.scoring.tags import (
    TAGGERS,
    DerivedTagger,
    ImageNetTagger,
    Tagger,
    ZeroShotTagger,
    load_tag_bank,
)
from artwork.testing.contracts import TaggerContract

DIM = 16


class _TextEncoder:
    """Stands in for CLIP: a fixed random text embedding per prompt."""

    name = "fake-clip"
    logit_scale = 100.0

    def encode_text(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.stack(
            [
                np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)
                for text in texts
            ]
        )


class _Classifier:
    """Stands in for MobileNetV2: the tag bank's classes, probabilities from mean brightness."""

    name = "fake-mobilenet"

    def __init__(self) -> None:
        bank = load_tag_bank()
        named = sorted({label for spec in bank.tags for label in spec.imagenet_classes})
        self.labels = [*named, *(f"class-{i}" for i in range(1000 - len(named)))]

    def class_probabilities(self, images: Sequence[Image]) -> NDArray[np.float32]:
        out = np.full((len(images), len(self.labels)), 1e-4, np.float32)
        for i, image in enumerate(images):
            out[i, int(image.mean()) % len(self.labels)] = 0.9
        return out


KINDS = ("derived", "imagenet_map", "zero_shot")


class TestEveryTagger(TaggerContract):
    @pytest.fixture(params=KINDS)
    def tagger(self, request: pytest.FixtureRequest) -> Tagger:
        bank = load_tag_bank()
        if request.param == "derived":
            return DerivedTagger(bank)
        if request.param == "imagenet_map":
            return ImageNetTagger(_Classifier(), bank)
        return ZeroShotTagger(_TextEncoder(), bank)

    @pytest.fixture
    def embeddings(self) -> NDArray[np.float32]:
        rng = np.random.default_rng(1)
        return rng.normal(size=(len(self.images()), DIM)).astype(np.float32)


def test_every_registered_tagger_is_covered() -> None:
    assert set(TAGGERS) == set(KINDS)
    assert {cls.kind for cls in (DerivedTagger, ImageNetTagger, ZeroShotTagger)} == set(KINDS)

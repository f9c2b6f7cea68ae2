"""The ONNX Runtime MobileNetV2: same embeddings and classes as torch, a checksum-tied cache, and
no torch import once the cache is warm."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data as photos

from artwork.errors import ChecksumMismatchError, ModelError
from artwork.scoring import mobilenet_onnx
from artwork.scoring.mobilenet import WEIGHTS_SHA256, MobileNetV2Embedder
from artwork.scoring.mobilenet_onnx import (
    OnnxMobileNetV2Embedder,
    cached_onnx,
    ensure_onnx,
    onnx_path_for,
    record_path_for,
)


def _frames(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        photos.chelsea(),
        photos.coffee(),
        photos.astronaut(),
        photos.rocket(),
        np.ascontiguousarray(np.repeat(photos.camera()[..., None], 3, axis=2)),
        rng.integers(0, 256, (180, 320, 3), dtype=np.uint8),
        np.zeros((90, 160, 3), np.uint8),
    ]


def test_same_embeddings_and_classes_as_torch(
    onnx_mobilenet: OnnxMobileNetV2Embedder,
    mobilenet: MobileNetV2Embedder,
    rng: np.random.Generator,
) -> None:
    images = _frames(rng)
    ours, theirs = onnx_mobilenet.embed(images), mobilenet.embed(images)
    cosines = np.sum(ours[:-1] * theirs[:-1], axis=1)  # the black frame may pool to ~0
    assert np.all(cosines >= 1 - 1e-4), cosines
    assert onnx_mobilenet.name == mobilenet.name == "mobilenet_v2-imagenet"
    assert onnx_mobilenet.labels == mobilenet.labels and len(onnx_mobilenet.labels) == 1000
    probabilities = onnx_mobilenet.class_probabilities(images)
    assert np.allclose(probabilities, mobilenet.class_probabilities(images), atol=1e-4)
    cat, coffee = onnx_mobilenet.top_classes(images[:2], k=3)
    assert {c.label for c in cat} & {"Egyptian cat", "tabby", "tiger cat"}
    assert coffee[0].label == "espresso" and coffee[0].probability > 0.5


def test_the_export_is_recorded_with_both_digests(
    onnx_mobilenet: OnnxMobileNetV2Embedder,
) -> None:
    path = onnx_mobilenet.onnx_path
    assert path == onnx_path_for(WEIGHTS_SHA256, path.parent)
    record = json.loads(record_path_for(path).read_text())
    assert record["source_sha256"] == WEIGHTS_SHA256
    assert record["onnx_sha256"] == mobilenet_onnx.sha256_file(path)
    assert record["opset"] == mobilenet_onnx.OPSET
    assert cached_onnx(WEIGHTS_SHA256, path.parent) == path
    assert not list(path.parent.glob("*.tmp"))


@pytest.fixture
def cache(onnx_mobilenet: OnnxMobileNetV2Embedder, tmp_path: Path) -> Path:
    """A private copy of the session's export and its record."""
    folder = tmp_path / "onnx"
    folder.mkdir()
    for source in (onnx_mobilenet.onnx_path, record_path_for(onnx_mobilenet.onnx_path)):
        shutil.copyfile(source, folder / source.name)
    return folder


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch, cache: Path) -> list[Path]:
    """Records calls of the export (which copies the session's good file back instead of
    running torch again)."""
    good = {p.name: p.read_bytes() for p in cache.iterdir()}
    calls: list[Path] = []

    def fake_export(weights_path: Path, source_sha256: str, folder: Path) -> Path:
        calls.append(folder)
        for name, content in good.items():
            (folder / name).write_bytes(content)
        return onnx_path_for(source_sha256, folder)

    monkeypatch.setattr(mobilenet_onnx, "export_onnx", fake_export)
    return calls


def test_a_warm_cache_is_used_as_it_is(cache: Path, exports: list[Path]) -> None:
    assert ensure_onnx(Path("unused"), WEIGHTS_SHA256, cache) == onnx_path_for(
        WEIGHTS_SHA256, cache
    )
    assert exports == []


def test_a_tampered_export_is_exported_again(cache: Path, exports: list[Path]) -> None:
    path = onnx_path_for(WEIGHTS_SHA256, cache)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    assert cached_onnx(WEIGHTS_SHA256, cache) is None
    assert ensure_onnx(Path("unused"), WEIGHTS_SHA256, cache) == path
    assert exports == [cache]
    assert cached_onnx(WEIGHTS_SHA256, cache) == path


def test_an_export_of_other_weights_or_a_bad_record_is_not_used(
    cache: Path, exports: list[Path]
) -> None:
    record_path = record_path_for(onnx_path_for(WEIGHTS_SHA256, cache))
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps(record | {"source_sha256": "ab" * 32}))
    assert cached_onnx(WEIGHTS_SHA256, cache) is None
    record_path.write_text("{not json")
    assert cached_onnx(WEIGHTS_SHA256, cache) is None
    record_path.unlink()
    assert cached_onnx(WEIGHTS_SHA256, cache) is None
    ensure_onnx(Path("unused"), WEIGHTS_SHA256, cache)
    assert exports == [cache]


def test_the_source_weights_are_checked_first(tmp_path: Path) -> None:
    garbage = tmp_path / "w.pth"
    garbage.write_bytes(b"not weights")
    with pytest.raises(ChecksumMismatchError):
        OnnxMobileNetV2Embedder(tmp_path / "onnx", garbage)
    with pytest.raises(ModelError, match="not a torchvision mobilenet_v2 state dict"):
        OnnxMobileNetV2Embedder(tmp_path / "onnx", garbage, sha256=None)
    assert not list((tmp_path / "onnx").glob("*"))  # nothing half-written


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        OnnxMobileNetV2Embedder(tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        OnnxMobileNetV2Embedder(tmp_path, threads=0)


def test_a_warm_cache_loads_without_torch(onnx_mobilenet: OnnxMobileNetV2Embedder) -> None:
    folder = onnx_mobilenet.onnx_path.parent
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from skimage import data\n"
        "from artwork.scoring.mobilenet_onnx import OnnxMobileNetV2Embedder\n"
        f"e = OnnxMobileNetV2Embedder(Path({str(folder)!r}))\n"
        "e.embed([data.chelsea()]); e.class_probabilities([data.chelsea()])\n"
        "print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"

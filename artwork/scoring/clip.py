"""An open_clip image embedder loaded from a local checkpoint (never downloaded).

Set ``ARTWORK_CLIP_WEIGHTS`` (and ``ARTWORK_CLIP_MODEL``, ``ARTWORK_CLIP_SHA256``) to use it; see
``models/README.md``. Images go through the model's own evaluation transform (resize, centre
crop, CLIP normalisation); embeddings are the image tower's output, L2-normalised.
:meth:`ClipEmbedder.encode_text` embeds text with the checkpoint's own tokenizer and text tower
into the same space, and :attr:`ClipEmbedder.logit_scale` is the learned temperature, which is
what zero-shot tagging (``artwork.scoring.tags``) needs. The embedder's name carries the
architecture and the first 12 hex digits of the checkpoint's sha256.

open_clip and torch are imported when an embedder is built, never at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.errors import ModelError
from artwork.scoring.base import Embedder, check_image, l2_normalise
from artwork.scoring.manifest import require_file, verify_sha256

WEIGHTS_HINT = (
    "set ARTWORK_CLIP_WEIGHTS to a local open_clip checkpoint (see models/README.md), "
    "or unset it to use the bundled MobileNetV2 embedder"
)


class ClipEmbedder(Embedder):
    """open_clip image embeddings from a local checkpoint, on CPU.

    Args:
        model_name: open_clip architecture, e.g. ``"ViT-B-32"``.
        weights_path: the checkpoint file (a state dict open_clip can load).
        sha256: digest the checkpoint must have; ``None`` skips the check (the digest still
            names the embedder).
        batch_size: images per forward pass.
        torch_threads: if given, ``torch.set_num_threads`` (process-wide) before loading.

    Raises:
        WeightsNotFoundError: ``weights_path`` does not exist.
        ChecksumMismatchError: its sha256 is not ``sha256``.
        ModelError: open_clip does not know ``model_name`` or cannot load the checkpoint.
    """

    def __init__(
        self,
        model_name: str,
        weights_path: Path,
        sha256: str | None = None,
        *,
        batch_size: int = 16,
        torch_threads: int | None = None,
    ) -> None:
        if not model_name:
            raise ValueError("model_name must be an open_clip architecture, got ''")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if torch_threads is not None and torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1, got {torch_threads}")
        path = require_file(Path(weights_path), what="CLIP weights", hint=WEIGHTS_HINT)
        digest = verify_sha256(path, sha256)
        import open_clip
        import torch

        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                model_name, pretrained=str(path), device="cpu"
            )
        except Exception as exc:  # unknown architecture, wrong or broken checkpoint
            raise ModelError(
                f"cannot load open_clip model {model_name!r} from {path} ({exc}); check that "
                "ARTWORK_CLIP_MODEL names the checkpoint's architecture"
            ) from exc
        self._model = model.eval()
        self._preprocess = preprocess
        self._tokenizer: Any = None  # built on first use: image-only callers never need it
        self._torch = torch
        self._lock = threading.Lock()
        self._dim = int(model.visual.output_dim)
        self._name = f"open_clip:{model_name}:{digest[:12]}"
        self.model_name = model_name
        self.weights_path = path
        self.sha256 = digest
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        """``"open_clip:<architecture>:<first 12 hex digits of the sha256>"``."""
        return self._name

    @property
    def dim(self) -> int:
        """The image tower's output size (512 for ViT-B-32)."""
        return self._dim

    def embed(self, images: Sequence[Image]) -> NDArray[np.float32]:
        """L2-normalised image embeddings, shape ``(len(images), dim)``.

        Args:
            images: RGB ``uint8`` arrays of shape (height, width, 3), any sizes.
        """
        from PIL import Image as PILImage

        for i, image in enumerate(images):
            check_image(image, argument=f"images[{i}]")
        torch = self._torch
        out = np.zeros((len(images), self._dim), np.float32)
        with self._lock, torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                chunk = images[start : start + self.batch_size]
                batch = torch.stack([self._preprocess(PILImage.fromarray(im)) for im in chunk])
                out[start : start + len(chunk)] = self._model.encode_image(batch).float().numpy()
        return l2_normalise(out)

    @property
    def logit_scale(self) -> float:
        """The checkpoint's learned ``exp(logit_scale)`` (100 for the OpenAI and LAION
        ViT-B-32 weights), capped at 100 as in training."""
        with self._lock:
            return float(min(100.0, self._model.logit_scale.exp().item()))

    def encode_text(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised text embeddings in the image embeddings' space.

        Args:
            texts: strings, tokenized with the checkpoint's tokenizer (truncated to its
                context length).

        Returns:
            ``float32`` array of shape ``(len(texts), dim)``.

        Raises:
            ModelError: the tokenizer cannot be built offline, or does not fit the model.
        """
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"texts[{i}] must be a non-empty string, got {text!r}")
        if not texts:
            return np.zeros((0, self._dim), np.float32)
        torch = self._torch
        with self._lock, torch.inference_mode():
            tokens = self._tokenize(list(texts))
            try:
                encoded = self._model.encode_text(tokens).float().numpy()
            except (IndexError, RuntimeError) as exc:  # token ids beyond the vocabulary
                raise ModelError(
                    f"the tokenizer of {self.model_name} does not fit this checkpoint ({exc})"
                ) from exc
        return l2_normalise(encoded)

    def _tokenize(self, texts: list[str]) -> Any:
        if self._tokenizer is None:
            import open_clip

            try:
                self._tokenizer = open_clip.get_tokenizer(self.model_name)
            except Exception as exc:  # a Hugging Face tokenizer would need the network
                raise ModelError(
                    f"cannot build the tokenizer of {self.model_name} offline ({exc}); "
                    "zero-shot tags need an architecture with open_clip's bundled tokenizer"
                ) from exc
        return self._tokenizer(texts)

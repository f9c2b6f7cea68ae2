"""MobileNetV2 on ONNX Runtime: the default embedder's weights, without importing torch.

Importing torch and torchvision and building the network takes about 3.6 s of wall time on two
cores, longer than the keyframe pass of a two-minute film; ``import onnxruntime`` and opening a
session take a fraction of that, and ONNX Runtime's CPU kernels run MobileNetV2 faster than
torch's eager mode. So the default embedder runs an ONNX copy of the *same* weights:

1. :func:`ensure_onnx` looks in ``$ARTWORK_HOME/models/onnx/`` (``ARTWORK_MODEL_CACHE_DIR``
   moves it) for
   ``mobilenet_v2-<first 16 hex digits of the source weights' sha256>.onnx`` and its record
   ``<that name>.json`` (the source weights' sha256, the ONNX file's own sha256, opset, torch
   version). It is used when the record names the source weights and the file's digest matches
   the record; otherwise (first run on a machine, a damaged or edited file) the network is
   exported again from the source weights with torch (once: a few seconds), written atomically,
   and recorded.
2. :class:`OnnxMobileNetV2Embedder` opens it with ONNX Runtime (CPU). The graph's outputs are
   the 1280-d pooled features and the 1000 ImageNet logits; the class names ride in the model's
   metadata (``imagenet_labels``, JSON), so tagging needs no torchvision either. Preprocessing
   and normalisation are :class:`~artwork.scoring.mobilenet.MobileNetV2Base`'s, so embeddings
   equal the torch embedder's to 1e-4 cosine (tested) and carry the same name.

``artwork models prepare`` (or the first ingest) does the export; see ``models/README.md``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.errors import ModelError
from artwork.scoring.manifest import sha256_file
from artwork.scoring.mobilenet import (
    FEATURE_DIM,
    INPUT_SIZE,
    WEIGHTS_SHA256,
    MobileNetV2Base,
    resolve_weights,
)

logger = logging.getLogger(__name__)

OPSET = 17
EXPORT_FORMAT = 1
"""Bumped whenever the exported graph changes (outputs, metadata), so old exports are redone."""
FEATURES_OUTPUT = "features"
LOGITS_OUTPUT = "logits"
LABELS_KEY = "imagenet_labels"


def onnx_dir(model_cache_dir: Path) -> Path:
    """Where exported networks are cached: ``<model cache>/onnx`` (``Settings.
    resolved_model_cache_dir``: ``$ARTWORK_HOME/models`` unless ``ARTWORK_MODEL_CACHE_DIR``)."""
    return Path(model_cache_dir) / "onnx"


def onnx_path_for(source_sha256: str, folder: Path) -> Path:
    """The cached export of the weights with this digest (it may not exist yet)."""
    return Path(folder) / f"mobilenet_v2-{source_sha256[:16]}.onnx"


def record_path_for(onnx_path: Path) -> Path:
    """The JSON record next to an export: source and export digests, opset, torch version."""
    return onnx_path.with_name(onnx_path.name + ".json")


def cached_onnx(source_sha256: str, folder: Path) -> Path | None:
    """The verified export of these weights, or ``None`` if it is missing or does not match.

    Args:
        source_sha256: digest of the source weights the export must come from.
        folder: the cache folder (:func:`onnx_dir`).
    """
    path = onnx_path_for(source_sha256, folder)
    record_path = record_path_for(path)
    if not (path.is_file() and record_path.is_file()):
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("%s is unreadable; exporting MobileNetV2 again", record_path)
        return None
    if (
        not isinstance(record, dict)
        or record.get("source_sha256") != source_sha256
        or record.get("format") != EXPORT_FORMAT
    ):
        logger.info("%s is from other weights or an older export; exporting again", path)
        return None
    actual = sha256_file(path)
    if actual != record.get("onnx_sha256"):
        logger.warning(
            "%s has sha256 %s, its record says %s; exporting MobileNetV2 again",
            path,
            actual,
            record.get("onnx_sha256"),
        )
        return None
    return path


def ensure_onnx(weights_path: Path, source_sha256: str, folder: Path) -> Path:
    """The ONNX export of these MobileNetV2 weights, exporting it first if need be.

    Args:
        weights_path: the torchvision state dict (already verified to have ``source_sha256``).
        source_sha256: its digest, which keys the cache.
        folder: the cache folder (:func:`onnx_dir`); created if missing.

    Raises:
        ModelError: the export failed (torch or onnx missing, or the folder is not writable).
    """
    found = cached_onnx(source_sha256, folder)
    if found is not None:
        return found
    return export_onnx(weights_path, source_sha256, folder)


@dataclass(frozen=True, slots=True)
class PreparedExport:
    """What :func:`prepare` found or did.

    Attributes:
        path: the verified ONNX file.
        exported: whether it was exported now (else it was cached already).
        seconds: how long checking (and exporting) took.
    """

    path: Path
    exported: bool
    seconds: float


def prepare(
    folder: Path, weights_path: Path | None = None, *, sha256: str | None = WEIGHTS_SHA256
) -> PreparedExport:
    """Make sure the export of the MobileNetV2 weights is cached and verified, exporting it if
    need be, so that no ingest has to (``artwork models prepare``).

    Args:
        folder: the cache folder (:func:`onnx_dir`).
        weights_path: a torchvision MobileNetV2 state dict; default the packaged file.
        sha256: digest the file must have; default the packaged file's.

    Raises:
        WeightsNotFoundError: the source weights (or their package) are missing.
        ChecksumMismatchError: the source weights' sha256 is not ``sha256``.
        ModelError: the export failed (torch or onnx missing, or the folder is not writable).
    """
    started = time.perf_counter()
    path, digest = resolve_weights(weights_path, sha256)
    found = cached_onnx(digest, Path(folder))
    exported = found is None
    if found is None:
        found = export_onnx(path, digest, Path(folder))
    return PreparedExport(found, exported, time.perf_counter() - started)


def export_onnx(weights_path: Path, source_sha256: str, folder: Path) -> Path:
    """Export the network to ``folder`` and record both digests (imports torch: a few seconds).

    The file and its record are written to temporary names and renamed, so a concurrent
    reader sees either the old pair, the new pair, or a mismatch it repairs by exporting.

    Raises:
        ModelError: the export failed.
    """
    path = onnx_path_for(source_sha256, folder)
    # A warning, so that a command line without logging set up still says why this run is
    # slow: it happens once, or ahead of time with `artwork models prepare`.
    logger.warning(
        "exporting MobileNetV2 to %s with torch (once; `artwork models prepare` does it ahead)",
        path,
    )
    try:
        import onnx
        import torch

        from artwork.scoring.mobilenet import (
            load_torch_model,
            pooled_features,
            torchvision_labels,
        )
    except ImportError as exc:
        raise ModelError(
            f"exporting MobileNetV2 to ONNX needs torch, torchvision and onnx ({exc}); install "
            "them or set ARTWORK_EMBEDDER_RUNTIME=torch"
        ) from exc

    model = load_torch_model(weights_path)

    class _Both(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pooled = pooled_features(self.inner, batch)
            return pooled, self.inner.classifier(pooled)

    suffix = f".{os.getpid()}.{threading.get_ident()}.tmp"
    partial = path.with_name(path.name + suffix)
    record_partial = record_path_for(path).with_name(record_path_for(path).name + suffix)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
        with warnings.catch_warnings(), torch.inference_mode():
            # The TorchScript-based exporter is deprecated in favour of dynamo, which needs
            # onnxscript; it exports this plain convolutional network exactly.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                _Both(model).eval(),
                (example,),
                str(partial),
                dynamo=False,
                opset_version=OPSET,
                input_names=["images"],
                output_names=[FEATURES_OUTPUT, LOGITS_OUTPUT],
                dynamic_axes={
                    "images": {0: "batch"},
                    FEATURES_OUTPUT: {0: "batch"},
                    LOGITS_OUTPUT: {0: "batch"},
                },
            )
        graph = onnx.load(str(partial))
        entry = graph.metadata_props.add()
        entry.key, entry.value = LABELS_KEY, json.dumps(list(torchvision_labels()))
        onnx.save(graph, str(partial))
        record = {
            "format": EXPORT_FORMAT,
            "source_sha256": source_sha256,
            "source_path": str(weights_path),
            "onnx_sha256": sha256_file(partial),
            "opset": OPSET,
            "torch": str(torch.__version__),
            "onnx": str(onnx.__version__),
        }
        record_partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
        os.replace(record_partial, record_path_for(path))
    except ModelError:
        raise
    except Exception as exc:  # torch and onnx raise many kinds; the user needs one
        raise ModelError(f"exporting MobileNetV2 to {path} failed: {exc}") from exc
    finally:
        for leftover in (partial, record_partial):
            leftover.unlink(missing_ok=True)
    return path


class OnnxMobileNetV2Embedder(MobileNetV2Base):
    """MobileNetV2 ImageNet features (1280-d) and classes, on CPU with ONNX Runtime.

    Args:
        cache_dir: where the export is cached (:func:`onnx_dir`).
        weights_path: a torchvision MobileNetV2 state dict; default the packaged file.
        sha256: digest the file must have; default the packaged file's (``None`` skips the
            check; the digest still keys the export and names the embedder).
        batch_size: images per forward pass.
        threads: ONNX Runtime's intra-op threads; default its choice (one per core).

    Raises:
        WeightsNotFoundError: the source weights (or their package) are missing.
        ChecksumMismatchError: the source weights' sha256 is not ``sha256``.
        ModelError: onnxruntime is missing, or the export failed or cannot be loaded.
    """

    def __init__(
        self,
        cache_dir: Path,
        weights_path: Path | None = None,
        *,
        sha256: str | None = WEIGHTS_SHA256,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        try:
            import onnxruntime
        except ImportError as exc:
            raise ModelError(
                "onnxruntime is not installed; install it or set ARTWORK_EMBEDDER_RUNTIME=torch"
            ) from exc
        path, digest = resolve_weights(weights_path, sha256)
        self.onnx_path = ensure_onnx(path, digest, Path(cache_dir))
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: on a small machine the decoder (a
        # batch's next file) needs those cores between two inference calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(
                str(self.onnx_path), options, providers=["CPUExecutionProvider"]
            )
            metadata = self._session.get_modelmeta().custom_metadata_map
            labels = json.loads(metadata[LABELS_KEY])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelError(
                f"{self.onnx_path} cannot be loaded by ONNX Runtime ({exc}); delete it to "
                "export it again"
            ) from exc
        self._lock = threading.Lock()
        self.weights_path = path
        self.sha256 = digest
        self.batch_size = batch_size
        self.labels = tuple(str(label) for label in labels)

    def _forward(
        self, batch: NDArray[np.float32], *, want_logits: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        names = [FEATURES_OUTPUT, LOGITS_OUTPUT] if want_logits else [FEATURES_OUTPUT]
        # One run at a time: ONNX Runtime already uses every core for one batch.
        with self._lock:
            outputs = self._session.run(names, {"images": batch})
        pooled = np.asarray(outputs[0], np.float32).reshape(len(batch), FEATURE_DIM)
        logits = np.asarray(outputs[1], np.float32) if want_logits else None
        return pooled, logits

"""Scorers and embedders by name, so settings and the CLI pick them.

Frame scorers (:func:`default_frame_scorers` builds all of them, in this order; their merged
scores describe a frame, see ``docs/scoring.md``):

=================  ======================================================================
name               scorer
=================  ======================================================================
``quality``        :class:`~artwork.scoring.quality.QualityScorer` at the analysis width
``text``           :class:`~artwork.scoring.text.TextScorer` (``text_heaviness``)
``faces``          :class:`~artwork.scoring.faces.FaceScorer` (``face_*``)
``composition``    :class:`~artwork.scoring.composition.CompositionScorer`
=================  ======================================================================

Embedders (``ARTWORK_EMBEDDER``):

=================  ======================================================================
name               embedder
=================  ======================================================================
``mobilenet_v2``   the packaged MobileNetV2 weights, on ONNX Runtime
                   (:class:`~artwork.scoring.mobilenet_onnx.OnnxMobileNetV2Embedder`) or torch
                   (:class:`~artwork.scoring.mobilenet.MobileNetV2Embedder`) as
                   ``ARTWORK_EMBEDDER_RUNTIME`` says (``auto``: ONNX when installed)
``clip``           :class:`~artwork.scoring.clip.ClipEmbedder` from ``ARTWORK_CLIP_WEIGHTS``
``auto``           ``clip`` when ``ARTWORK_CLIP_WEIGHTS`` is set, else ``mobilenet_v2``
=================  ======================================================================
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from types import MappingProxyType

from artwork.config import Settings
from artwork.errors import WeightsNotFoundError
from artwork.scoring.base import Embedder, FrameScorer
from artwork.scoring.composition import CompositionScorer
from artwork.scoring.faces import FaceScorer
from artwork.scoring.quality import QualityScorer
from artwork.scoring.text import TextScorer

FRAME_SCORERS: Mapping[str, Callable[[Settings], FrameScorer]] = MappingProxyType(
    {
        "quality": lambda settings: QualityScorer(max_width=max(16, settings.analysis_width)),
        "text": lambda _settings: TextScorer(),
        "faces": lambda _settings: FaceScorer(),
        "composition": lambda _settings: CompositionScorer(),
    }
)
"""Frame scorer factories by name."""


def default_frame_scorers(settings: Settings) -> list[FrameScorer]:
    """Every scorer of :data:`FRAME_SCORERS`, built for the settings, in order.

    Their merged scores hold what :func:`~artwork.scoring.quality.quality`,
    :func:`~artwork.scoring.quality.is_bad_frame` and selection read. About 8 ms per
    320 x 180 frame on one core, faces taking 6 of them.

    Args:
        settings: ``analysis_width`` is read.

    Raises:
        ModelError: OpenCV's face cascades are missing.
    """
    return [factory(settings) for factory in FRAME_SCORERS.values()]


def mobilenet_runtime_for(settings: Settings) -> str:
    """``"onnx"`` or ``"torch"``: the runtime ``settings.embedder_runtime`` resolves to.

    ``auto`` is ``onnx`` when onnxruntime is installed (located, not imported).
    """
    if settings.embedder_runtime != "auto":
        return settings.embedder_runtime
    return "onnx" if importlib.util.find_spec("onnxruntime") is not None else "torch"


def _mobilenet_v2(settings: Settings) -> Embedder:
    if mobilenet_runtime_for(settings) == "onnx":
        from artwork.scoring.mobilenet_onnx import OnnxMobileNetV2Embedder, onnx_dir

        return OnnxMobileNetV2Embedder(
            onnx_dir(settings.resolved_model_cache_dir), threads=settings.torch_threads
        )
    from artwork.scoring.mobilenet import MobileNetV2Embedder

    return MobileNetV2Embedder(torch_threads=settings.torch_threads)


def _clip(settings: Settings) -> Embedder:
    from artwork.scoring.clip import WEIGHTS_HINT, ClipEmbedder

    if settings.clip_weights is None:
        raise WeightsNotFoundError(f"ARTWORK_EMBEDDER=clip needs CLIP weights: {WEIGHTS_HINT}")
    return ClipEmbedder(
        settings.clip_model,
        settings.clip_weights,
        settings.clip_sha256,
        torch_threads=settings.torch_threads,
    )


EMBEDDERS: Mapping[str, Callable[[Settings], Embedder]] = MappingProxyType(
    {"mobilenet_v2": _mobilenet_v2, "clip": _clip}
)
"""Factories by name; each builds (and loads) an embedder from the settings."""


def embedder_name_for(settings: Settings) -> str:
    """The registry key ``settings.embedder`` resolves to (``auto`` decided).

    Args:
        settings: the settings to read.
    """
    if settings.embedder == "auto":
        return "clip" if settings.clip_weights is not None else "mobilenet_v2"
    return settings.embedder


def create_embedder(settings: Settings) -> Embedder:
    """Build the embedder the settings ask for; this loads its weights.

    Args:
        settings: ``embedder``, ``clip_*`` and ``torch_threads`` are read.

    Raises:
        ValueError: ``settings.embedder`` is not a registered name.
        WeightsNotFoundError, ChecksumMismatchError, ModelError: the weights cannot be used.
    """
    name = embedder_name_for(settings)
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise ValueError(
            f"embedder must be 'auto' or one of {', '.join(EMBEDDERS)}, got {name!r}"
        ) from None
    return factory(settings)

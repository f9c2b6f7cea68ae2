"""Embedders by name, so settings and the CLI pick one: ``ARTWORK_EMBEDDER``.

=================  ======================================================================
name               embedder
=================  ======================================================================
``mobilenet_v2``   :class:`~artwork.scoring.mobilenet.MobileNetV2Embedder`, packaged weights
``clip``           :class:`~artwork.scoring.clip.ClipEmbedder` from ``ARTWORK_CLIP_WEIGHTS``
``auto``           ``clip`` when ``ARTWORK_CLIP_WEIGHTS`` is set, else ``mobilenet_v2``
=================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from artwork.config import Settings
from artwork.errors import WeightsNotFoundError
from artwork.scoring.base import Embedder


def _mobilenet_v2(settings: Settings) -> Embedder:
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

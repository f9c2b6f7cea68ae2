"""Shot detectors by name, so settings pick one: ``ARTWORK_SHOT_DETECTOR``.

=============  =================================================================================
name           detector
=============  =================================================================================
``frames``     :class:`~artwork.video.frame_detector.FrameShotDetector`: every frame, exact,
               ~5x real time
``keyframes``  :class:`~artwork.video.keyframe_detector.KeyframeShotDetector`: keyframes and
               short windows
``auto``       ``frames`` when decoding every frame is cheap (at most ``ARTWORK_FULL_DECODE_MAX_S``
               seconds of 1080p-equivalent pixels: 30 s of 1080p, 68 s of 720p, 4.5 min of 360p),
               ``keyframes`` otherwise
=============  =================================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from artwork.config import Settings
from artwork.domain import VideoInfo
from artwork.video.changes import ChangeParams
from artwork.video.frame_detector import FrameShotDetector
from artwork.video.keyframe_detector import KeyframeShotDetector
from artwork.video.shots import ShotDetector

FULL_HD_PIXELS = 1920 * 1080


def _params(settings: Settings) -> ChangeParams:
    return ChangeParams(cut_threshold=settings.cut_threshold)


SHOT_DETECTORS: Mapping[str, Callable[[Settings], ShotDetector]] = MappingProxyType(
    {
        "frames": lambda settings: FrameShotDetector(_params(settings)),
        "keyframes": lambda settings: KeyframeShotDetector(
            _params(settings), refine_budget=settings.shot_refine_budget
        ),
    }
)
"""Detector factories by name."""


def shot_detector_name_for(settings: Settings, info: VideoInfo) -> str:
    """The :data:`SHOT_DETECTORS` key ``settings.shot_detector`` resolves to for this video.

    Args:
        settings: ``shot_detector`` and ``full_decode_max_s`` are read.
        info: the video, from :func:`~artwork.video.decode.probe`.
    """
    if settings.shot_detector != "auto":
        return settings.shot_detector
    full_hd_seconds = info.duration_s * info.width * info.height / FULL_HD_PIXELS
    return "frames" if full_hd_seconds <= settings.full_decode_max_s else "keyframes"


def create_shot_detector(settings: Settings, info: VideoInfo) -> ShotDetector:
    """The detector the settings ask for, for this video.

    Args:
        settings: ``shot_detector``, ``full_decode_max_s``, ``cut_threshold`` and
            ``shot_refine_budget`` are read.
        info: the video.

    Raises:
        ValueError: ``settings.shot_detector`` is not a registered name.
    """
    name = shot_detector_name_for(settings, info)
    try:
        factory = SHOT_DETECTORS[name]
    except KeyError:
        raise ValueError(
            f"shot_detector must be 'auto' or one of {', '.join(SHOT_DETECTORS)}, got {name!r}"
        ) from None
    return factory(settings)

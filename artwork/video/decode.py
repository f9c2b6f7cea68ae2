"""Probing and decoding video files with PyAV: the only module that touches FFmpeg.

Three entry points, each opening the file itself:

- :func:`probe` checks that a file is a decodable video and describes it (:class:`VideoInfo`);
  every way a file can be unusable becomes a :class:`~artwork.errors.VideoError` whose one-line
  message says what is wrong and what to do.
- :func:`iter_frames` is the low-resolution analysis pass: one sequential decode that yields a
  small RGB copy of the frame nearest each planned sample time (:func:`plan_sample_times`),
  holding no more than the frame it yields, so memory stays flat on feature-length files.
- :func:`read_frames_at` fetches full-resolution stills at given times, seeking to the keyframe
  before each and decoding forward (or decoding from the start where the container cannot
  seek, as with raw elementary streams).

Times are seconds from the start of the video stream (its ``start_time`` subtracted), and a
frame's index is ``round(time_s * fps)``, so both functions name the same frame the same way.
Frames are returned upright: display-matrix rotation (phone videos) and non-square pixels are
applied. Packets that fail to decode are skipped and counted in :class:`DecodeStats`; a file
from which nothing decodes raises ``VideoError``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

from artwork.domain import Frame, Image, VideoInfo
from artwork.errors import VideoError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

MIN_SAMPLES = 5
"""A video shorter than ``MIN_SAMPLES * interval_s`` is still sampled this many times."""

SEEK_AHEAD_S = 4.0
""":func:`read_frames_at` decodes forward instead of seeking when the next time is this close."""


@dataclass(slots=True)
class DecodeStats:
    """Counts from one decoding pass; pass one in to learn what was skipped.

    Attributes:
        decoded: frames that decoded cleanly.
        yielded: frames handed to the caller.
        bad_packets: packets the decoder rejected (skipped).
        corrupt_frames: frames the decoder flagged as corrupt (skipped).
    """

    decoded: int = 0
    yielded: int = 0
    bad_packets: int = 0
    corrupt_frames: int = 0


def plan_sample_times(
    duration_s: float, *, interval_s: float, max_frames: int, min_frames: int = MIN_SAMPLES
) -> list[float]:
    """The times the analysis pass samples: evenly spread, one per interval, capped.

    ``n = clamp(floor(duration / interval_s), min_frames, max_frames)`` samples sit at the centres
    of ``n`` equal slices of the video, so a long video is covered end to end by ``max_frames``
    samples, a short one still gets ``min_frames``, and the first and last frames (often black
    or titles) are not favoured.

    Args:
        duration_s: length of the video in seconds (> 0).
        interval_s: wanted seconds between samples (> 0).
        max_frames: upper bound on the number of samples (>= 1).
        min_frames: lower bound for short videos (>= 1; capped by ``max_frames``).

    Returns:
        Increasing times in ``(0, duration_s)``.
    """
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    _check_interval(interval_s)
    _check_max_frames(max_frames)
    if min_frames < 1:
        raise ValueError(f"min_frames must be >= 1, got {min_frames}")
    n = min(max(int(duration_s // interval_s), min_frames), max_frames)
    step = duration_s / n
    return [(i + 0.5) * step for i in range(n)]


def probe(path: Path) -> VideoInfo:
    """Check that ``path`` is a video with at least one decodable frame and describe it.

    Decodes only the first frame (to prove the stream decodes and to read its rotation).

    Args:
        path: the video file.

    Returns:
        Duration, frame rate, upright display size, codec and rotation.

    Raises:
        VideoError: the file is missing, empty, not a video, has no video stream, or no frame
            of it decodes.
    """
    with _open(path) as container:
        stream = _video_stream(container, path)
        duration = _duration(container, stream)
        first = next(_decode(container, stream, DecodeStats(), _fps(stream, duration)), None)
        if first is None:
            raise VideoError(
                f"{path}: the video stream has no decodable frames (corrupt or truncated); "
                "re-export the video"
            )
        rotation = _rotation(first.frame)
        width, height = _display_size(stream, rotation)
        fps = _fps(stream, duration)
        if duration is None:
            duration = _duration_by_demuxing(path, fps)
        return VideoInfo(
            path=path,
            duration_s=max(duration, 1.0 / fps),
            fps=fps,
            width=width,
            height=height,
            codec=stream.codec_context.name,
            rotation=rotation,
        )


def iter_frames(
    path: Path,
    *,
    interval_s: float,
    width: int,
    max_frames: int,
    stats: DecodeStats | None = None,
) -> Iterator[Frame]:
    """Yield small upright RGB frames about every ``interval_s`` seconds, in one pass.

    The frame nearest each time of :func:`plan_sample_times` is converted (only those are);
    decoding stops after the last one.

    Args:
        path: the video file.
        interval_s: wanted seconds between frames (> 0).
        width: maximum width of the yielded images (>= 1); aspect ratio is kept, and smaller
            videos are not upscaled.
        max_frames: most frames to yield (>= 1), spread evenly over long videos.
        stats: filled in with decode counts as the pass runs.

    Yields:
        Frames in time order, images of shape (h, <= width, 3), ``uint8``.

    Raises:
        VideoError: the file cannot be used (see :func:`probe`) or nothing decodes.
    """
    _check_interval(interval_s)
    _check_max_frames(max_frames)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    return _iter_frames(path, interval_s, width, max_frames, stats or DecodeStats())


def read_frames_at(path: Path, times_s: Sequence[float]) -> list[Frame]:
    """Decode the full-resolution frames nearest the given times.

    Seeks to the keyframe before each time and decodes forward, or just keeps decoding when the
    next time is less than ``SEEK_AHEAD_S`` ahead (so short videos take one sequential pass).

    Args:
        path: the video file.
        times_s: seconds from the start (each finite and >= 0); any order, repeats allowed.
            Times past the end give the last frame.

    Returns:
        One upright RGB frame per time, in the order of ``times_s``.

    Raises:
        VideoError: the file cannot be used or a frame cannot be decoded.
    """
    for i, t in enumerate(times_s):
        if not (math.isfinite(t) and t >= 0):
            raise ValueError(f"times_s[{i}] must be a finite time >= 0, got {t}")
    if not times_s:
        return []
    found: dict[float, Frame] = {}
    with _Cursor(path) as cursor:
        for target in sorted(set(times_s)):
            chosen = cursor.nearest(target)
            if chosen is None:
                raise VideoError(
                    f"{path}: no frame near {target:.2f} s could be decoded; the file is "
                    "corrupt there, re-export the video"
                )
            found[target] = _to_frame(chosen, cursor.fps, cursor.sar, None)
    return [found[t] for t in times_s]


# --- internals ---------------------------------------------------------------------------------
def _iter_frames(
    path: Path, interval_s: float, width: int, max_frames: int, stats: DecodeStats
) -> Iterator[Frame]:
    info = probe(path)
    targets = plan_sample_times(info.duration_s, interval_s=interval_s, max_frames=max_frames)
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        sar = _sar(stream)
        half_frame = 0.5 / info.fps
        next_target = 0
        for timed in _decode(container, stream, stats, info.fps):
            if timed.time_s < targets[next_target] - half_frame:
                continue  # not wanted: skip the costly conversion
            while next_target < len(targets) and targets[next_target] <= timed.time_s + half_frame:
                next_target += 1
            stats.yielded += 1
            yield _to_frame(timed, info.fps, sar, width)
            if next_target == len(targets):
                break
    if stats.bad_packets or stats.corrupt_frames:
        logger.warning(
            "%s: skipped %d undecodable packets and %d corrupt frames",
            path,
            stats.bad_packets,
            stats.corrupt_frames,
        )
    if stats.yielded == 0:
        raise VideoError(
            f"{path}: no frame decoded ({stats.bad_packets} bad packets); the file is corrupt, "
            "re-export the video"
        )


def _open(path: Path) -> InputContainer:
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file; check the path")
    if not path.is_file():
        raise VideoError(f"{path}: not a regular file; pass the path of a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes); upload or copy it again")
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise VideoError(
            f"{path}: not a video FFmpeg can read, or truncated ({exc.strerror or exc}); "
            "upload a complete MP4, MOV, MKV or WebM file"
        ) from exc


def _video_stream(container: InputContainer, path: Path) -> VideoStream:
    if not container.streams.video:
        kinds = ", ".join(sorted({str(s.type) for s in container.streams})) or "no streams"
        raise VideoError(
            f"{path}: has no video stream (found: {kinds}); upload a file with a video track"
        )
    return container.streams.video[0]


@dataclass(frozen=True, slots=True)
class _Timed:
    """A decoded frame and its time in seconds from the start of the stream."""

    frame: VideoFrame
    time_s: float


def _decode(
    container: InputContainer, stream: VideoStream, stats: DecodeStats, fps: float
) -> Iterator[_Timed]:
    """Decode ``stream`` from the current position, skipping what fails.

    Frames without a timestamp (raw elementary streams) are timed by counting from here, which
    is right because such streams cannot seek (see :class:`_Cursor`).
    """
    start = _start_time(stream)
    packets = container.demux(stream)
    count = 0
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:
            # The demuxer itself gave up (truncated file): what decoded so far stands.
            stats.bad_packets += 1
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            stats.bad_packets += 1
            continue
        for frame in frames:
            if frame.is_corrupt:
                stats.corrupt_frames += 1
                continue
            stats.decoded += 1
            time_s = frame.time - start if frame.time is not None else count / fps
            count += 1
            yield _Timed(frame, max(0.0, time_s))


class _Cursor:
    """Walks a video to the frames nearest increasing times, seeking over long gaps.

    Holds at most two decoded frames (the current one and the one before). Containers that
    cannot seek (raw streams) are reopened and decoded from the start instead.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stats = DecodeStats()
        self._container = _open(path)
        try:
            self._stream = _video_stream(self._container, path)
        except VideoError:
            self._container.close()
            raise
        self._stream.thread_type = "AUTO"
        self.fps = _fps(self._stream, _duration(self._container, self._stream))
        self.sar = _sar(self._stream)
        self._decoder: Iterator[_Timed] | None = None
        self._previous: _Timed | None = None
        self._current: _Timed | None = None
        self._can_seek = True

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._container.close()

    def nearest(self, target: float) -> _Timed | None:
        """The decoded frame nearest ``target`` (>= the previous call's target)."""
        half_frame = 0.5 / self.fps
        position = self._current.time_s if self._current is not None else -math.inf
        earliest = self._previous.time_s if self._previous is not None else position
        if (
            self._decoder is None
            or target < earliest - half_frame
            or (self._can_seek and target - position > SEEK_AHEAD_S)
        ):
            self._restart(target)
        assert self._decoder is not None
        while self._current is None or self._current.time_s < target - half_frame:
            following = next(self._decoder, None)
            if following is None:
                break
            self._previous, self._current = self._current, following
        if self._previous is None or self._current is None:
            return self._current or self._previous
        before = abs(self._previous.time_s - target)
        after = abs(self._current.time_s - target)
        return self._previous if before < after else self._current

    def _restart(self, target: float) -> None:
        """Position the decoder at the keyframe before ``target`` (or at the very start)."""
        stream = self._stream
        if self._can_seek:
            offset = (
                int((target + _start_time(stream)) / stream.time_base) if stream.time_base else 0
            )
            try:
                self._container.seek(max(offset, 0), stream=stream, backward=True)
            except av.error.FFmpegError:
                self._can_seek = False
        if not self._can_seek:
            self._container.close()
            self._container = _open(self.path)
            self._stream = stream = _video_stream(self._container, self.path)
            stream.thread_type = "AUTO"
        self._decoder = _decode(self._container, stream, self.stats, self.fps)
        self._previous = self._current = None


def _duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _duration_by_demuxing(path: Path, fps: float) -> float:
    """Duration from packet timestamps, or packets / fps without them (raw streams)."""
    end, packets = 0.0, 0
    with _open(path) as container:
        stream = _video_stream(container, path)
        start = _start_time(stream)
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the flush packet at the end
            packets += 1
            if packet.pts is not None and packet.time_base:
                span = packet.pts + (packet.duration or 0)
                end = max(end, float(span * packet.time_base) - start)
    return max(end, packets / fps)


def _fps(stream: VideoStream, duration: float | None) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) < 1000:
            return float(rate)
    if duration and stream.frames:
        return stream.frames / duration
    return 25.0  # nothing states a rate: only frame indices depend on it


def _start_time(stream: VideoStream) -> float:
    if stream.start_time is None or not stream.time_base:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _rotation(frame: VideoFrame) -> int:
    """Counter-clockwise degrees that make the frame upright: 0, 90, 180 or 270."""
    return (round((frame.rotation or 0) / 90) * 90) % 360


def _display_size(stream: VideoStream, rotation: int) -> tuple[int, int]:
    codec = stream.codec_context
    width, height = _apply_sar(codec.width, _sar(stream)), codec.height
    return (height, width) if rotation in (90, 270) else (width, height)


def _sar(stream: VideoStream) -> Fraction | None:
    """Sample (pixel) aspect ratio; ``None`` when pixels are square or it is unknown."""
    sar = stream.codec_context.sample_aspect_ratio
    if not sar or sar <= 0 or sar == 1:
        return None
    return Fraction(sar)


def _apply_sar(coded_width: int, sar: Fraction | None) -> int:
    return coded_width if sar is None else max(1, round(coded_width * sar))


def _to_frame(timed: _Timed, fps: float, sar: Fraction | None, max_width: int | None) -> Frame:
    frame = timed.frame
    rotation = _rotation(frame)
    coded_w, coded_h = frame.width, frame.height
    display_w = _apply_sar(coded_w, sar)
    upright_w, upright_h = (coded_h, display_w) if rotation in (90, 270) else (display_w, coded_h)
    scale = 1.0 if max_width is None else min(1.0, max_width / upright_w)
    out_w = max(1, round(upright_w * scale))
    out_h = max(1, round(upright_h * scale))
    # Scale in the coded orientation, then rotate the (small) result.
    target_w, target_h = (out_h, out_w) if rotation in (90, 270) else (out_w, out_h)
    if (target_w, target_h) == (coded_w, coded_h):
        pixels = frame.to_ndarray(format="rgb24")
    else:
        pixels = frame.to_ndarray(
            width=target_w, height=target_h, format="rgb24", interpolation="AREA"
        )
    image: Image = np.asarray(pixels, dtype=np.uint8)
    if rotation:
        image = np.ascontiguousarray(np.rot90(image, k=rotation // 90))
    return Frame(index=round(timed.time_s * fps), time_s=timed.time_s, image=image)


def _check_interval(interval_s: float) -> None:
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise ValueError(f"interval_s must be > 0, got {interval_s}")


def _check_max_frames(max_frames: int) -> None:
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")

"""Probing and decoding video files with PyAV: the only module that touches FFmpeg.

The entry points, each opening the file itself:

- :func:`probe` checks that a file is a decodable video and describes it (:class:`VideoInfo`);
  every way a file can be unusable becomes a :class:`~artwork.errors.VideoError` whose one-line
  message says what is wrong and what to do.
- :func:`iter_keyframes` is the cheap pass of the keyframe shot detector: it demuxes every
  packet (recording its time, size and keyframe flag in a :class:`PacketLog`) but hands only
  keyframe packets to the decoder, which costs a few percent of decoding every frame.
- :class:`FrameReader` decodes stretches of a video at full frame rate and low resolution,
  seeking to the keyframe before each stretch (shot detection windows, the full-rate pass).
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

import dataclasses
import heapq
import logging
import math
import os
import threading
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Frame, Image, VideoInfo
from artwork.errors import VideoError
from artwork.video.containers import open_input
from artwork.video.slices import intra_test

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

MIN_SAMPLES = 5
"""A video shorter than ``MIN_SAMPLES * interval_s`` is still sampled this many times."""

STILL_WORKERS = 2
"""Decoders sharing the stills of keyframe samples (:func:`read_frames_at` ``keyframes``)."""
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


class PacketLog:
    """Presentation time, size and keyframe flag of every video packet a pass demuxed, and
    whether it is an intra picture that is no keyframe (:mod:`artwork.video.slices`; H.264).

    About 14 bytes a frame (a two-hour film at 24 fps: 2.4 MB), so the whole table is kept.
    ``timed`` is false when some packet had no timestamp (raw elementary streams): then the
    times are only estimates and shot detection should not rely on them.
    """

    def __init__(self) -> None:
        self._times = array("d")
        self._sizes = array("q")
        self._keys = array("b")
        self._intra: list[float] = []
        self.timed = True

    def __len__(self) -> int:
        return len(self._times)

    def add(self, time_s: float, size: int, keyframe: bool, *, intra: bool = False) -> None:
        """Record one packet (``intra``: an intra picture not flagged as a keyframe)."""
        self._times.append(time_s)
        self._sizes.append(size)
        self._keys.append(1 if keyframe else 0)
        if intra and not keyframe:
            self._intra.append(time_s)

    def intra_times(self) -> NDArray[np.float64]:
        """Presentation times of the intra pictures that are no keyframe, increasing."""
        return np.sort(np.array(self._intra, dtype=np.float64))

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
        """``(times, sizes, keyframe flags)`` in presentation order."""
        times = np.frombuffer(self._times, dtype=np.float64)
        order = np.argsort(times, kind="stable")
        sizes = np.frombuffer(self._sizes, dtype=np.int64)
        keys = np.frombuffer(self._keys, dtype=np.int8).astype(bool)
        return times[order], sizes[order], keys[order]


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

    Decodes only the first frame (to prove the stream decodes and to read its rotation). An
    ingest asks several times (the check, the scan, the keyframe pass); the answer for the same
    file (path, size, modification time) is remembered, so the file is opened once.

    Args:
        path: the video file.

    Returns:
        Duration, frame rate, upright display size, codec and rotation.

    Raises:
        VideoError: the file is missing, empty, not a video, has no video stream, or no frame
            of it decodes.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return _probe(path)  # _open says what is wrong with it
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _PROBED_LOCK:
        known = _PROBED.get(key)
    if known is not None:
        return dataclasses.replace(known, path=path)
    info = _probe(path)
    with _PROBED_LOCK:
        _PROBED[key] = info
        while len(_PROBED) > PROBE_MEMORY:  # oldest first: dicts keep insertion order
            del _PROBED[next(iter(_PROBED))]
    return info


PROBE_MEMORY = 16
"""Probed files remembered (the least recently probed is forgotten first)."""
_PROBED: dict[tuple[str, int, int], VideoInfo] = {}
_PROBED_LOCK = threading.Lock()


def _probe(path: Path) -> VideoInfo:
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


def iter_keyframes(
    path: Path,
    *,
    width: int,
    packets: PacketLog | None = None,
    stats: DecodeStats | None = None,
) -> Iterator[Frame]:
    """Yield every keyframe as a small upright RGB frame, in one pass that decodes nothing else.

    Every packet is demuxed (reading the file is cheap) and logged in ``packets``; only
    keyframe packets reach the decoder, so a 1080p H.264 film passes at one to two hundred
    times real time on two cores, against about five for decoding every frame.

    Args:
        path: the video file.
        width: maximum width of the yielded images (>= 1); smaller videos are not upscaled.
        packets: filled with every packet's time, size and keyframe flag.
        stats: filled in with decode counts as the pass runs.

    Yields:
        Keyframes in time order.

    Raises:
        VideoError: the file cannot be used (see :func:`probe`) or no keyframe decodes.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    log = packets if packets is not None else PacketLog()
    return _iter_keyframes(path, width, log, stats or DecodeStats())


class FrameReader:
    """Decodes stretches of one video at full frame rate, as small upright RGB frames.

    Each call of :meth:`frames` seeks to the keyframe before its start (or keeps decoding when
    the start is less than ``SEEK_AHEAD_S`` ahead), skips what comes before without converting
    it, and stops at its end; frames are converted (scaled) only when yielded.

    Args:
        path: the video file.
        width: maximum width of the yielded images (>= 1).
        fast: skip the H.264/HEVC in-loop deblocking filter (about 1.7 times faster) and
            scale with OpenCV instead of FFmpeg (about twice as fast): faint block edges and
            colours a few levels off, which shot detection does not notice; leave it off for
            frames that are scored.
        skip_nonref: do not decode frames no other frame refers to (most B-frames: with
            x264's defaults every other frame), about 40% less work; the frames yielded are
            then irregularly spaced.
        skip_bidir: do not decode any B-frame, reference or not (FFmpeg's ``skip_frame``
            ``bidir``): I- and P-frames only, about every fourth frame with x264's defaults
            and 60% of ``skip_nonref``'s work. A P-frame that an encoder predicted from a
            reference B-frame then decodes against a missing reference (concealed, not
            exact): use it where a coarse look is enough and what it finds is checked.
        stats: filled in with decode counts.
        threads: decoder threads; 0 lets FFmpeg choose (frame and slice threads, one per
            core and one more), 1 decodes in the calling thread alone (for several readers
            running side by side).

    Raises:
        VideoError: the file cannot be opened or has no video stream.
    """

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        fast: bool = False,
        skip_nonref: bool = False,
        skip_bidir: bool = False,
        stats: DecodeStats | None = None,
        threads: int = 0,
    ) -> None:
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        self.path = Path(path)
        self.width = width
        self.threads = threads
        self.fast = fast
        self.skip_nonref = skip_nonref
        self.skip_bidir = skip_bidir
        self.stats = stats or DecodeStats()
        self._container = _open(self.path)
        try:
            self._stream = _video_stream(self._container, self.path)
        except VideoError:
            self._container.close()
            raise
        self._configure(self._stream)
        self.fps = _fps(self._stream, _duration(self._container, self._stream))
        self.sar = _sar(self._stream)
        self._decoder: Iterator[_Timed] | None = None
        self._pending: _Timed | None = None
        self._position = -math.inf
        self._can_seek = True

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file."""
        self._container.close()

    def frames(
        self, start_s: float = 0.0, end_s: float = math.inf, *, at_keyframe: bool = False
    ) -> Iterator[Frame]:
        """The frames whose times lie in ``[start_s, end_s)`` (to half a frame), in order.

        Args:
            start_s: first time wanted (finite, >= 0).
            end_s: first time not wanted (> ``start_s``; ``inf`` for the rest of the video).
            at_keyframe: ``start_s`` is a keyframe's time: seek to it whenever decoding has
                not reached the frame before it (decoding up to a keyframe is wasted work,
                since nothing after it refers to what came before).
        """
        if not (math.isfinite(start_s) and start_s >= 0):
            raise ValueError(f"start_s must be a finite time >= 0, got {start_s}")
        if not end_s > start_s:
            raise ValueError(f"end_s must be > start_s ({start_s}), got {end_s}")
        return self._frames(start_s, end_s, at_keyframe)

    def _frames(self, start_s: float, end_s: float, at_keyframe: bool = False) -> Iterator[Frame]:
        half = 0.5 / self.fps
        ahead = start_s - self._position
        if (
            self._decoder is None
            or start_s < self._position - half
            or (self._can_seek and ahead > SEEK_AHEAD_S)
        ):
            self._restart(start_s)
        elif at_keyframe and self._can_seek and ahead > 3 * half:
            # A quarter frame past the keyframe's time, so that rounding to the stream's
            # time base cannot land the seek on the keyframe before it.
            self._restart(start_s + half / 2)
        assert self._decoder is not None
        while True:
            if self._pending is not None:
                timed, self._pending = self._pending, None
            else:
                following = next(self._decoder, None)
                if following is None:
                    return
                timed = following
            self._position = timed.time_s
            if timed.time_s < start_s - half:
                continue
            if timed.time_s >= end_s - half:
                self._pending = timed  # the next stretch may start here
                return
            self.stats.yielded += 1
            yield _to_frame(timed, self.fps, self.sar, self.width, rough=self.fast)

    def _restart(self, target: float) -> None:
        self._container, stream, self._can_seek, reopened = _seek_or_reopen(
            self._container, self._stream, self.path, target, self._can_seek
        )
        if reopened:
            self._stream = stream
            self._configure(stream)
        self._decoder = _decode(self._container, stream, self.stats, self.fps)
        self._pending = None
        self._position = -math.inf

    def _configure(self, stream: VideoStream) -> None:
        if self.threads == 0:
            stream.thread_type = "AUTO"
        else:
            stream.codec_context.thread_count = self.threads
            if self.threads > 1:
                stream.thread_type = "AUTO"
        if self.fast:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        if self.skip_bidir:
            stream.codec_context.skip_frame = "BIDIR"
        elif self.skip_nonref:
            stream.codec_context.skip_frame = "NONREF"


def read_frames_at(path: Path, times_s: Sequence[float], *, keyframes: bool = False) -> list[Frame]:
    """Decode the full-resolution frames nearest the given times.

    Seeks to the keyframe before each time and decodes forward, or just keeps decoding when the
    next time is less than ``SEEK_AHEAD_S`` ahead (so short videos take one sequential pass).

    Args:
        path: the video file.
        times_s: seconds from the start (each finite and >= 0); any order, repeats allowed.
            Times past the end give the last frame.
        keyframes: the times are keyframes' (the samples of the keyframe detector): each is
            decoded alone, one packet per time, with the decoder drained at once instead of
            waiting for the frames that follow (frame threads and B-frame reordering each
            hold a picture back for a few more), and two decoders share the times. The pixels
            are the same; times that turn out to be no keyframe's are decoded the ordinary
            way.

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
    wanted = sorted(set(times_s))
    found: dict[float, Frame] = {}
    if keyframes:
        # One picture per time: split the times between decoders, one per core (at most
        # STILL_WORKERS), each in its own thread and container; FFmpeg releases the GIL.
        workers = max(1, min(STILL_WORKERS, os.cpu_count() or 1, len(wanted)))
        if workers == 1:
            found = _keyframe_stills(path, wanted)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="artwork-stills") as pool:
                for part in pool.map(
                    _keyframe_stills, [path] * workers, [wanted[i::workers] for i in range(workers)]
                ):
                    found.update(part)
    if len(found) == len(wanted):
        return [found[t] for t in times_s]
    with _Cursor(path) as cursor:
        for target in (t for t in wanted if t not in found):
            chosen = cursor.nearest(target)
            if chosen is None and cursor.can_seek:
                # Seeking can land nowhere useful in a damaged or index-less file (a cut-off
                # MPEG-TS): decode from the start instead, as for streams that cannot seek.
                cursor.stop_seeking()
                chosen = cursor.nearest(target)
            if chosen is None:
                raise VideoError(
                    f"{path}: no frame near {target:.2f} s could be decoded; the file is "
                    "corrupt there, re-export the video"
                )
            found[target] = _to_frame(chosen, cursor.fps, cursor.sar, None)
    return [found[t] for t in times_s]


# --- internals ---------------------------------------------------------------------------------
def _iter_keyframes(
    path: Path, width: int, packets: PacketLog, stats: DecodeStats
) -> Iterator[Frame]:
    info = probe(path)
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "NONKEY"
        sar = _sar(stream)
        yielded = 0
        decoded = _decode(container, stream, stats, info.fps, packets=packets)
        for frame in _in_time_order(_to_frame(timed, info.fps, sar, width) for timed in decoded):
            stats.yielded += 1
            yielded += 1
            yield frame
    if yielded == 0:
        raise VideoError(
            f"{path}: no keyframe decoded ({stats.bad_packets} bad packets); the file is "
            "corrupt, re-export the video"
        )


KEYFRAME_REORDER = 8
"""Keyframes held back to put the decoder's output in time order (:func:`_in_time_order`)."""


def _in_time_order(frames: Iterator[Frame], window: int = KEYFRAME_REORDER) -> Iterator[Frame]:
    """``frames`` in increasing time, repeats dropped, as long as none comes more than
    ``window`` places late.

    Fed keyframes alone, an HEVC decoder can hand an open-GOP stream's keyframes (CRA
    pictures) out of order (x265's defaults: 18.79 s before 11.83 s), since it orders its
    output by picture order counts that restart at each keyframe.
    """
    pending: list[tuple[float, int, Frame]] = []
    last = -math.inf
    for number, timed in enumerate(frames):
        heapq.heappush(pending, (timed.time_s, number, timed))
        if len(pending) > window:
            time_s, _, first = heapq.heappop(pending)
            if time_s > last:
                last = time_s
                yield first
    while pending:
        time_s, _, first = heapq.heappop(pending)
        if time_s > last:
            last = time_s
            yield first


def _seek_or_reopen(
    container: InputContainer, stream: VideoStream, path: Path, target: float, can_seek: bool
) -> tuple[InputContainer, VideoStream, bool, bool]:
    """Seek to the keyframe before ``target``; a file that cannot seek is reopened at the start.

    Returns:
        The container and stream to decode from, whether seeking still works, and whether the
        file was reopened (the new stream then needs configuring).
    """
    if can_seek:
        offset = int((target + _start_time(stream)) / stream.time_base) if stream.time_base else 0
        try:
            container.seek(max(offset, 0), stream=stream, backward=True)
        except av.error.FFmpegError:
            can_seek = False
    if can_seek:
        return container, stream, True, False
    container.close()
    container = _open(path)
    return container, _video_stream(container, path), False, True


def _open(path: Path) -> InputContainer:
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file; check the path")
    if not path.is_file():
        raise VideoError(f"{path}: not a regular file; pass the path of a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes); upload or copy it again")
    try:
        return open_input(path)  # allowed containers only, local files only
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
    container: InputContainer,
    stream: VideoStream,
    stats: DecodeStats,
    fps: float,
    *,
    packets: PacketLog | None = None,
) -> Iterator[_Timed]:
    """Decode ``stream`` from the current position, skipping what fails.

    Frames without a timestamp (raw elementary streams) are timed by counting from here, which
    is right because such streams cannot seek (see :class:`_Cursor`). With ``packets``, every
    packet is logged there and only keyframe packets (and the final flush) are decoded.
    """
    start = _start_time(stream)
    demuxed = container.demux(stream)
    count = 0
    intra = (
        intra_test(stream.codec_context.name, stream.codec_context.extradata)
        if packets is not None
        else None
    )
    while True:
        try:
            packet = next(demuxed)
        except StopIteration:
            return
        except av.error.FFmpegError:
            # The demuxer itself gave up (truncated file): what decoded so far stands.
            stats.bad_packets += 1
            return
        if packets is not None and packet.size:
            if packet.pts is None or not packet.time_base:
                packets.timed = False
                packet_time = len(packets) / fps
            else:
                packet_time = float(packet.pts * packet.time_base) - start
            if packet.is_keyframe:
                packets.add(packet_time, packet.size, True)
            else:
                packets.add(
                    packet_time,
                    packet.size,
                    False,
                    intra=intra is not None and intra(memoryview(packet)),
                )
                continue
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

    @property
    def can_seek(self) -> bool:
        """Whether the cursor still seeks (it stops after a seek failed or found nothing)."""
        return self._can_seek

    def stop_seeking(self) -> None:
        """Decode from the start from now on; the next call of :meth:`nearest` reopens."""
        self._can_seek = False
        self._decoder = None

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
        self._container, stream, self._can_seek, reopened = _seek_or_reopen(
            self._container, self._stream, self.path, target, self._can_seek
        )
        if reopened:
            self._stream = stream
            stream.thread_type = "AUTO"
        self._decoder = _decode(self._container, stream, self.stats, self.fps)
        self._previous = self._current = None


def _keyframe_stills(path: Path, times_s: Sequence[float]) -> dict[float, Frame]:
    """Full-resolution keyframes at ``times_s`` (increasing), each from its packet alone.

    A time whose keyframe is not found (no keyframe there, no seeking, a packet that does
    not decode) is left out, for the ordinary decoder to find.
    """
    found: dict[float, Frame] = {}
    with _open(path) as container:
        stream = _video_stream(container, path)
        if not stream.time_base:
            return found
        stream.thread_type = "SLICE"  # one picture: frame threads would only hold it back
        start, sar = _start_time(stream), _sar(stream)
        fps = _fps(stream, _duration(container, stream))
        for target in times_s:
            try:
                container.seek(
                    max(int((target + start) / stream.time_base), 0), stream=stream, backward=True
                )
                packet = _keyframe_packet(container, stream, target - 0.5 / fps)
                if packet is None or packet.pts is None:
                    continue
                time_s = float(packet.pts * packet.time_base) - start
                if abs(time_s - target) > 0.5 / fps:
                    continue
                # Draining the decoder hands the picture over at once; the next seek resets it.
                frames = [*packet.decode(), *stream.codec_context.decode(None)]
            except av.error.FFmpegError:
                break
            if frames and not frames[0].is_corrupt:
                found[target] = _to_frame(_Timed(frames[0], max(0.0, time_s)), fps, sar, None)
    return found


def _keyframe_packet(
    container: InputContainer, stream: VideoStream, earliest_s: float
) -> av.Packet | None:
    """The first keyframe packet at or after ``earliest_s`` from the current position."""
    start = _start_time(stream)
    for packet in container.demux(stream):
        if not (packet.size and packet.is_keyframe and packet.pts is not None):
            continue
        if float(packet.pts * packet.time_base) - start >= earliest_s:
            return packet
    return None


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


def _to_frame(
    timed: _Timed,
    fps: float,
    sar: Fraction | None,
    max_width: int | None,
    *,
    rough: bool = False,
) -> Frame:
    """The frame upright, as RGB no wider than ``max_width`` (``None``: full size).

    ``rough`` scales 4:2:0 planes with OpenCV and converts with a fixed BT.601 matrix: about
    half the cost of FFmpeg's exact conversion (1.2 against 2.6 ms per 1080p frame), with
    colours a few levels off, which comparing frames of one video does not notice.
    """
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
    elif rough and frame.format.name in _ROUGH_FORMATS:
        pixels = _rough_rgb(frame, target_w, target_h)
    else:
        pixels = frame.to_ndarray(
            width=target_w, height=target_h, format="rgb24", interpolation="AREA"
        )
    image: Image = np.asarray(pixels, dtype=np.uint8)
    if rotation:
        image = np.ascontiguousarray(np.rot90(image, k=rotation // 90))
    return Frame(index=round(timed.time_s * fps), time_s=timed.time_s, image=image)


_ROUGH_FORMATS = {"yuv420p": False, "yuvj420p": True}
"""4:2:0 pixel formats :func:`_rough_rgb` reads, and whether their range is full (JPEG)."""


def _rough_rgb(frame: VideoFrame, width: int, height: int) -> Image:
    """Scale a 4:2:0 frame's planes with ``INTER_AREA`` and convert them to RGB (BT.601)."""
    chroma = ((frame.width + 1) // 2, (frame.height + 1) // 2)
    planes = []
    for index, (plane_w, plane_h) in enumerate(((frame.width, frame.height), chroma, chroma)):
        plane = frame.planes[index]
        data = np.frombuffer(memoryview(plane), np.uint8)
        rows = data.reshape(-1, plane.line_size)[:plane_h, :plane_w]
        planes.append(_area_resize(rows, width, height))
    yuv = np.dstack(planes).astype(np.float32)
    if not _ROUGH_FORMATS[frame.format.name]:  # limited (TV) range to full
        yuv[..., 0] = (yuv[..., 0] - 16.0) * (255.0 / 219.0)
        yuv[..., 1:] = (yuv[..., 1:] - 128.0) * (255.0 / 224.0) + 128.0
    full = np.clip(yuv, 0, 255).astype(np.uint8)[..., [0, 2, 1]]  # Y, Cr, Cb for OpenCV
    return np.asarray(cv2.cvtColor(full, cv2.COLOR_YCrCb2RGB), np.uint8)


def _area_resize(plane: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """``plane`` averaged down to ``width`` x ``height`` (``INTER_AREA``).

    While both sides shrink by an even whole factor, halve first: OpenCV's exact 2x area
    path is several times faster per pixel than its general one (a 1080p luma plane to 64
    pixels wide: 2.7 ms at once, under 1 ms halved first), and averages of averages over
    aligned blocks are the same averages (to rounding).
    """
    while True:
        plane_h, plane_w = plane.shape[:2]
        if plane_w % (2 * width) or plane_h % (2 * height) or plane_w == 2 * width:
            break
        half = cv2.resize(plane, (plane_w // 2, plane_h // 2), interpolation=cv2.INTER_AREA)
        plane = np.asarray(half, np.uint8)
    return np.asarray(cv2.resize(plane, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def _check_interval(interval_s: float) -> None:
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise ValueError(f"interval_s must be > 0, got {interval_s}")


def _check_max_frames(max_frames: int) -> None:
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")

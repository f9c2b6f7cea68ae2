"""Synthetic videos with planted ground truth, written as real H.264 files with PyAV.

A *plan* is a sequence of :class:`Segment` s, each a kind and a length:

- ``"shot"``: a sharp, colourful procedural picture (smooth colour field, fine grain and
  crisp-edged shapes, a different palette and layout per shot) panning slowly, so consecutive
  frames differ but stay within one shot;
- ``"black"``: pure black frames;
- ``"blur"``: a shot like the above under a heavy Gaussian blur (sigma ``BLUR_SIGMA``);
- ``"fade"``: the preceding shot, still panning, fading linearly to black;
- ``"credits"``: white lines of text on a dark slate, rolling upwards (end credits).

:func:`write_synthetic_video` returns a :class:`SyntheticTruth` with the time range of every
segment and the hard cuts (every boundary except the gradual start of a fade), which tests
compare with what the extractor found. :func:`write_audio_only` writes a valid file without a
video stream, for the bad-input tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image

SegmentKind = Literal["shot", "black", "blur", "fade", "credits"]
SEGMENT_KINDS: tuple[SegmentKind, ...] = ("shot", "black", "blur", "fade", "credits")
BLUR_SIGMA = 6.0
"""Gaussian sigma of ``"blur"`` segments, in pixels of a 320 px wide frame (scaled with width)."""
PAN_PX_PER_FRAME = 1
CREDITS_BACKGROUND = (52, 58, 84)
"""RGB of the slate behind synthetic credits."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One planned stretch of the video.

    Attributes:
        kind: ``"shot"``, ``"black"``, ``"blur"``, ``"fade"`` or ``"credits"`` (see the module
            docstring).
        seconds: its length (> 0).
    """

    kind: SegmentKind
    seconds: float

    def __post_init__(self) -> None:
        if self.kind not in SEGMENT_KINDS:
            raise ValueError(f"kind must be one of {SEGMENT_KINDS}, got {self.kind!r}")
        if not (math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError(f"seconds must be > 0, got {self.seconds}")


@dataclass(frozen=True, slots=True)
class PlacedSegment:
    """A segment where it landed: ``[start_s, end_s)`` in the written video."""

    kind: SegmentKind
    start_s: float
    end_s: float

    def contains(self, time_s: float) -> bool:
        """Whether ``time_s`` falls inside ``[start_s, end_s)``."""
        return self.start_s <= time_s < self.end_s


@dataclass(frozen=True, slots=True)
class SyntheticTruth:
    """What was planted in a synthetic video.

    Attributes:
        path: the written file.
        width, height, fps: its format (as encoded, before any display rotation).
        frame_count: frames written.
        segments: every segment with its time range, in order.
        cuts_s: times of hard cuts (content changes abruptly), increasing.
    """

    path: Path
    width: int
    height: int
    fps: int
    frame_count: int
    segments: tuple[PlacedSegment, ...]
    cuts_s: tuple[float, ...]

    @property
    def duration_s(self) -> float:
        """Length of the video in seconds."""
        return self.frame_count / self.fps

    def ranges(self, kind: SegmentKind) -> tuple[tuple[float, float], ...]:
        """``(start_s, end_s)`` of every segment of ``kind``."""
        return tuple((s.start_s, s.end_s) for s in self.segments if s.kind == kind)

    def kind_at(self, time_s: float) -> SegmentKind:
        """The kind of segment playing at ``time_s``."""
        for segment in self.segments:
            if segment.contains(time_s):
                return segment.kind
        return self.segments[-1].kind


def default_plan(seconds: float) -> tuple[Segment, ...]:
    """Four shots with a black gap, a blurred stretch and a fade between them.

    Proportions (of ``seconds``): shot 0.2, black 0.06, shot 0.16, blur 0.12, shot 0.2,
    fade 0.1, shot 0.16.

    Args:
        seconds: total length (> 0).
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be > 0, got {seconds}")
    shares: tuple[tuple[SegmentKind, float], ...] = (
        ("shot", 0.2),
        ("black", 0.06),
        ("shot", 0.16),
        ("blur", 0.12),
        ("shot", 0.2),
        ("fade", 0.1),
        ("shot", 0.16),
    )
    return tuple(Segment(kind, seconds * share) for kind, share in shares)


def write_synthetic_video(
    path: Path,
    *,
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    seconds: float | None = None,
    plan: Sequence[Segment] | None = None,
    seed: int = 0,
    rotation: int = 0,
    variable_frame_rate: bool = False,
) -> SyntheticTruth:
    """Write an H.264 MP4 following ``plan`` and return its ground truth.

    Args:
        path: the file to write (parent folder must exist).
        width: frame width, even and >= 16.
        height: frame height, even and >= 16.
        fps: frames per second (>= 1).
        seconds: total length; with no ``plan``, :func:`default_plan` of this length. With a
            plan, it must match the plan's total if given.
        plan: the segments; a ``"fade"`` must follow a ``"shot"``.
        seed: seeds the procedural pictures (same seed, same video).
        rotation: display-matrix rotation in counter-clockwise degrees (0, 90, 180 or 270), as
            phones write; players (and artwork's decoder) turn the frames by it.
        variable_frame_rate: time frames irregularly, as phones do: each frame lasts between
            0.5 and 1.5 nominal frame durations (millisecond timestamps), averaging ``fps``;
            segment times in the truth then hold to within half a frame.

    Returns:
        The planted ground truth.
    """
    if width < 16 or width % 2:
        raise ValueError(f"width must be even and >= 16, got {width}")
    if height < 16 or height % 2:
        raise ValueError(f"height must be even and >= 16, got {height}")
    if fps < 1:
        raise ValueError(f"fps must be >= 1, got {fps}")
    if rotation not in (0, 90, 180, 270):
        raise ValueError(f"rotation must be 0, 90, 180 or 270, got {rotation}")
    if plan is None:
        if seconds is None:
            raise ValueError("seconds must be given when plan is not")
        plan = default_plan(seconds)
    if not plan:
        raise ValueError("plan must hold at least one segment")
    total = sum(segment.seconds for segment in plan)
    if seconds is not None and abs(total - seconds) > 1e-6:
        raise ValueError(f"seconds must match the plan's total {total}, got {seconds}")
    for i, segment in enumerate(plan):
        if segment.kind == "fade" and (i == 0 or plan[i - 1].kind != "shot"):
            raise ValueError(f"plan[{i}] is a fade, which must follow a shot")

    placed, cuts, boundaries = _place(plan, fps)
    frame_count = boundaries[-1]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "16", "preset": "veryfast"}
        if rotation:
            stream.set_display_rotation(rotation)
        times = _frame_times(frame_count, fps, seed if variable_frame_rate else None)
        for index, pixels in enumerate(_render(plan, boundaries, width, height, seed)):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = times[index]
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return SyntheticTruth(
        path=path,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        segments=placed,
        cuts_s=cuts,
    )


def write_video_without_frames(path: Path, *, width: int = 320, height: int = 180) -> Path:
    """Write a file whose H.264 video stream holds no frame at all (a zero-length video).

    The container follows the suffix: an MP4 muxer drops the empty track (the file then has
    no stream), a Matroska (``.mkv``) one keeps it.

    Args:
        path: the file to write.
        width: the stream's declared width.
        height: its declared height.
    """
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        container.start_encoding()  # writes the header although no packet follows
        container.mux(stream.encode(None))
    return path


def write_audio_only(path: Path, *, seconds: float = 1.0, sample_rate: int = 44100) -> Path:
    """Write a silent AAC-in-MP4 file: a valid media file with no video stream.

    Args:
        path: the file to write.
        seconds: its length (> 0).
        sample_rate: samples per second.
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be > 0, got {seconds}")
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=sample_rate)
        samples, pts = 1024, 0
        while pts < seconds * sample_rate:
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, samples), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = sample_rate, pts
            container.mux(stream.encode(frame))
            pts += samples
        container.mux(stream.encode(None))
    return path


# --- internals ---------------------------------------------------------------------------------
def _frame_times(count: int, fps: int, seed: int | None) -> list[tuple[int, Fraction]]:
    """``(pts, time_base)`` of each frame: regular, or (with a seed) jittered milliseconds."""
    if seed is None:
        return [(index, Fraction(1, fps)) for index in range(count)]
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(-0.25, 0.25, count) / fps
    jitter[0] = 0.0
    millis = [round(1000 * (index / fps + jitter[index])) for index in range(count)]
    for index in range(1, count):  # strictly increasing, whatever the rounding
        millis[index] = max(millis[index], millis[index - 1] + 1)
    return [(m, Fraction(1, 1000)) for m in millis]


def _place(
    plan: Sequence[Segment], fps: int
) -> tuple[tuple[PlacedSegment, ...], tuple[float, ...], list[int]]:
    """Frame boundaries of the segments (rounded to whole frames), their times, and the cuts."""
    boundaries, elapsed = [0], 0.0
    for segment in plan:
        elapsed += segment.seconds
        boundaries.append(max(boundaries[-1] + 1, round(elapsed * fps)))
    placed = tuple(
        PlacedSegment(segment.kind, boundaries[i] / fps, boundaries[i + 1] / fps)
        for i, segment in enumerate(plan)
    )
    cuts = tuple(
        placed[i].start_s
        for i in range(1, len(plan))
        if plan[i].kind != "fade" and not (plan[i].kind == plan[i - 1].kind == "black")
    )
    return placed, cuts, boundaries


def _render(
    plan: Sequence[Segment], boundaries: list[int], width: int, height: int, seed: int
) -> Iterator[Image]:
    """Yield every frame of the plan, in order."""
    sigma = BLUR_SIGMA * width / 320
    canvas: Image | None = None
    shot_start = 0
    for number, segment in enumerate(plan):
        first, stop = boundaries[number], boundaries[number + 1]
        if segment.kind in ("shot", "blur"):
            # The canvas is wide enough to pan across for the whole segment (and a fade after it).
            span = stop - first
            if number + 1 < len(plan) and plan[number + 1].kind == "fade":
                span += boundaries[number + 2] - stop
            canvas = _picture(width + span * PAN_PX_PER_FRAME, height, seed * 1000 + number)
            shot_start = first
        for index in range(first, stop):
            if segment.kind == "black":
                yield np.zeros((height, width, 3), np.uint8)
                continue
            if segment.kind == "credits":
                yield _credits(width, height, index - first, seed * 1000 + number)
                continue
            assert canvas is not None  # a fade follows a shot (checked by the caller)
            offset = (index - shot_start) * PAN_PX_PER_FRAME
            view: Image = np.ascontiguousarray(canvas[:, offset : offset + width])
            if segment.kind == "blur":
                view = np.asarray(cv2.GaussianBlur(view, (0, 0), sigma), dtype=np.uint8)
            elif segment.kind == "fade":
                alpha = 1.0 - (index - first + 1) / (stop - first)
                view = (view.astype(np.float32) * alpha).round().astype(np.uint8)
            yield view


def _credits(width: int, height: int, scrolled: int, seed: int) -> Image:
    """Lines of white capitals on a dark slate with a soft gradient, ``scrolled`` pixels up
    (a credits roll); bright enough not to count as black, so only its text rules it out."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.7, 1.3, width, dtype=np.float32)[None, :, None]
    image = (np.array(CREDITS_BACKGROUND, np.float32)[None, None, :] * ramp).astype(np.uint8)
    image = np.ascontiguousarray(np.repeat(image, height, axis=0))
    scale = height / 360
    spacing = max(8, round(28 * scale))
    letters = np.array(list("ABCDEFGHIJKLMNOPRSTUVWY"))
    for line in range(-1, height // spacing + 2):
        y = line * spacing + spacing - scrolled % spacing
        words = [
            "".join(rng.choice(letters, int(rng.integers(3, 9))))
            for _ in range(int(rng.integers(2, 4)))
        ]
        text = " ".join(words)
        (text_width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, 1)
        x = max(0, (width - text_width) // 2)
        cv2.putText(
            image,
            text,
            (x, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7 * scale,
            (235, 235, 235),
            1,
            cv2.LINE_AA,
        )
    return image


def _picture(width: int, height: int, seed: int) -> Image:
    """A sharp, colourful picture: a smooth two-hue colour field, grain and crisp shapes."""
    rng = np.random.default_rng(seed)
    hue = rng.uniform(0, 180)
    # Smooth field: coarse random values upsampled, mapped onto two hues 60 degrees apart.
    coarse = rng.random((max(2, height // 40), max(2, width // 40))).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    hsv = np.empty((height, width, 3), np.float32)
    hsv[..., 0] = (hue + 30 * field) % 180
    hsv[..., 1] = 140 + 100 * field.clip(0, 1)
    hsv[..., 2] = 90 + 140 * (1 - field.clip(0, 1))
    image = cv2.cvtColor(hsv.clip(0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    # Crisp shapes in contrasting colours give edges to detect and a layout per shot.
    # About 14 shapes per 16:9 screenful, whatever the resolution, so pictures look alike in
    # kind (and to an embedder) at any size.
    for _ in range(max(6, round(14 * width / (height * 16 / 9)))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(height // 16, height // 4))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), size, colour, thickness=-1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(image, (x, y), (x + size, y + size // 2), colour, thickness=-1)
    grain = rng.integers(-12, 13, size=image.shape, dtype=np.int16)
    noisy: NDArray[np.int16] = image.astype(np.int16) + grain
    return noisy.clip(0, 255).astype(np.uint8)

"""Finding cuts, fades and dissolves in a run of consecutive frames (full frame rate).

Both shot detectors feed this: the full-rate one with every frame of the video, the keyframe
one with the short windows it decodes where the keyframes alone leave a boundary uncertain.
Each frame is reduced to a :class:`Signature` (a 64-pixel-wide copy in HSV and RGB, and its
mean luma), and :class:`ChangeTracker` looks at the sequence three ways:

- **Hard cuts**: the content distance of consecutive frames (:func:`content_distance`, the mean
  absolute difference of hue, saturation and value on a 0-255 scale, as PySceneDetect's
  ``ContentDetector`` measures it) reaches ``cut_threshold`` (27, PySceneDetect's default) *and*
  ``adaptive_ratio`` (3) times the mean distance of the preceding second, so fast camera
  motion, which raises every distance, does not fire it (PySceneDetect's ``AdaptiveDetector``
  idea). A cut closer than ``min_shot_s`` to the previous one is ignored (flash frames).
- **Fades** from the luma trajectory: around every run of near-black frames (mean luma below
  ``black_luma``), the frames before it whose mean luma falls steadily (each step down by more
  than noise, no cut in between) are a fade-out, those after it whose luma rises steadily a
  fade-in, if the ramp spans at least ``min_fade_frames`` and ``min_fade_drop`` luma levels.
  The fade-out, the black and the fade-in make one ``"fade"`` transition.
- **Dissolves** by linearity: in a dissolve each frame is a weighted mean of the outgoing and
  incoming pictures, so over a window ``[i - 2h, i]`` the frames at its quarter points equal
  the matching mixes of its two ends. A window whose ends differ by at least
  ``dissolve_min_change`` (25, content distance) and whose quarter points depart from those mixes
  by less than ``dissolve_linearity`` (0.3) of the ends' difference, and whose middle frame
  has lost contrast (pixel variance at most ``dissolve_variance_dip``, 0.8, of the ends' mean:
  mixing two unrelated pictures half and half halves it), is a dissolve, tried for ``h`` of
  0.2, 0.4 and 0.75 s. Camera motion fails the test (a panned frame is not the average of its
  neighbours, and keeps its contrast, however smooth the picture), and so does a cut.

Only signatures of the last ``2 * h_max + 1`` frames are held, plus three numbers per frame.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.video.shots import Transition

SIGNATURE_WIDTH = 64
RECENT_S = 1.0
"""The span, in seconds, whose mean distance a cut must stand out from (``adaptive_ratio``):
by time, not by frames, so that it means the same when frames were skipped."""
DARK_VALUE = 64.0
"""HSV value (0-255) below which a pixel's hue and saturation count proportionally less."""


@dataclass(frozen=True, slots=True, eq=False)
class Signature:
    """A frame reduced for comparison.

    Attributes:
        hsv: the frame at ``SIGNATURE_WIDTH`` pixels wide in OpenCV HSV, ``int16``.
        rgb: the same pixels in RGB, ``float32`` (mixes of frames are linear here).
        luma: mean luma (BT.601) of the frame, 0-255.
        variance: variance of the signature's pixel values (contrast of the picture).
    """

    hsv: NDArray[np.int16]
    rgb: NDArray[np.float32]
    luma: float
    variance: float


def signature(image: Image) -> Signature:
    """The :class:`Signature` of an RGB ``uint8`` frame of any size.

    Args:
        image: RGB ``uint8`` array of shape (height, width, 3).
    """
    height, width = image.shape[:2]
    if width > SIGNATURE_WIDTH:
        size = (SIGNATURE_WIDTH, max(1, round(height * SIGNATURE_WIDTH / width)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    hsv = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2HSV), np.int16)
    luma = float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).mean())
    rgb = image.astype(np.float32)
    return Signature(hsv=hsv, rgb=rgb, luma=luma, variance=float(rgb.var()))


def content_distance(a: Signature, b: Signature) -> float:
    """Mean absolute difference of hue, saturation and value, averaged: 0 (same) to ~255.

    Hue differences wrap around (OpenCV hue runs 0-179), and hue and saturation count less in
    dark pixels (fully from a value of ``DARK_VALUE`` up), where they are mostly noise: without
    that, the last frames of a fade to black look like a cut.

    Args:
        a: one frame's signature.
        b: another's, of the same size.
    """
    if a.hsv.shape != b.hsv.shape:
        raise ValueError(f"signatures must have one shape, got {a.hsv.shape} and {b.hsv.shape}")
    difference = np.abs(a.hsv - b.hsv)
    hue = np.minimum(difference[..., 0], 180 - difference[..., 0])
    value = np.maximum(a.hsv[..., 2], b.hsv[..., 2])
    weight = np.minimum(value, DARK_VALUE) / DARK_VALUE
    colour = (hue + difference[..., 1]) * weight
    return float((colour.sum() + difference[..., 2].sum()) / (3 * value.size))


@dataclass(frozen=True, slots=True)
class ChangeParams:
    """Thresholds of :class:`ChangeTracker` (see the module docstring).

    Attributes:
        cut_threshold: least content distance of a cut.
        adaptive_ratio: a cut's distance must also exceed this times the recent mean distance.
        min_shot_s: cuts closer than this to the previous cut are ignored.
        black_luma: frames with a mean luma under this count as black (0-255).
        min_fade_frames: shortest fade ramp, in frames.
        min_fade_drop: least luma change (0-255) along a fade ramp.
        dissolve_halves_s: the half-lengths ``h`` tried for dissolves, in seconds.
        dissolve_min_change: least content distance between a dissolve's ends.
        dissolve_linearity: largest departure from linear mixing, relative to the ends' RGB
            difference.
        dissolve_variance_dip: the middle frame's pixel variance must be at most this share of
            the ends' mean variance.
    """

    cut_threshold: float = 27.0
    adaptive_ratio: float = 3.0
    min_shot_s: float = 0.2
    black_luma: float = 24.0
    min_fade_frames: int = 4
    min_fade_drop: float = 30.0
    dissolve_halves_s: tuple[float, ...] = (0.2, 0.4, 0.75)
    dissolve_min_change: float = 25.0
    dissolve_linearity: float = 0.3
    dissolve_variance_dip: float = 0.8

    def __post_init__(self) -> None:
        for name in ("cut_threshold", "adaptive_ratio", "min_fade_drop", "dissolve_min_change"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be > 0, got {value}")
        if not 0 <= self.black_luma <= 255:
            raise ValueError(f"black_luma must be in [0, 255], got {self.black_luma}")
        if self.min_shot_s < 0:
            raise ValueError(f"min_shot_s must be >= 0, got {self.min_shot_s}")
        if self.min_fade_frames < 2:
            raise ValueError(f"min_fade_frames must be >= 2, got {self.min_fade_frames}")
        if not self.dissolve_halves_s or min(self.dissolve_halves_s) <= 0:
            raise ValueError(f"dissolve_halves_s must be > 0, got {self.dissolve_halves_s}")
        if not 0 < self.dissolve_linearity < 1:
            raise ValueError(f"dissolve_linearity must be in (0, 1), got {self.dissolve_linearity}")
        if not 0 < self.dissolve_variance_dip <= 1:
            raise ValueError(
                f"dissolve_variance_dip must be in (0, 1], got {self.dissolve_variance_dip}"
            )


@dataclass(frozen=True, slots=True)
class Changes:
    """What :meth:`ChangeTracker.finish` found.

    Attributes:
        cuts_s: times of the first frame of each new shot, increasing.
        transitions: fades and dissolves, in order, not overlapping.
        frames: frames seen.
    """

    cuts_s: tuple[float, ...]
    transitions: tuple[Transition, ...]
    frames: int


@dataclass
class _Run:
    """Three numbers per frame seen: time, mean luma, distance to the previous frame."""

    times: list[float] = field(default_factory=list)
    lumas: list[float] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)


class ChangeTracker:
    """Finds cuts, fades and dissolves in consecutive frames pushed one by one.

    The frames may be every frame, or every frame the decoder kept when told to skip
    non-reference frames (then about every other one) or every B-frame (about every fourth):
    thresholds that concern time are in seconds, and a cut is placed at the first frame pushed
    after it.

    Args:
        fps: the video's frame rate (> 0); sizes the memory of recent frames.
        params: thresholds; default :class:`ChangeParams`.
    """

    def __init__(self, fps: float, params: ChangeParams | None = None) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be > 0, got {fps}")
        self.fps = fps
        self.params = params or ChangeParams()
        self._halves = sorted(self.params.dissolve_halves_s)
        span = 2 * self._halves[-1]
        self._window: deque[tuple[float, Signature]] = deque(maxlen=math.ceil(span * fps) + 2)
        # (time, distance) of the frames of the preceding second that were not cuts
        self._recent: deque[tuple[float, float]] = deque()
        self._run = _Run()
        self._cut_indices: list[int] = []
        self._dissolves: list[tuple[int, int]] = []

    @property
    def frames(self) -> int:
        """Frames pushed so far."""
        return len(self._run.times)

    def push(self, time_s: float, sig: Signature) -> None:
        """Add the next frame (in time order, none skipped but those the decoder skipped).

        Args:
            time_s: its time in seconds.
            sig: its :func:`signature`.
        """
        run, params = self._run, self.params
        index = len(run.times)
        if index and time_s <= run.times[-1]:
            raise ValueError(f"time_s must increase, got {time_s} after {run.times[-1]}")
        distance = content_distance(self._window[-1][1], sig) if self._window else 0.0
        run.times.append(time_s)
        run.lumas.append(sig.luma)
        run.distances.append(distance)
        recent_window = self._recent
        while recent_window and recent_window[0][0] < time_s - RECENT_S:
            recent_window.popleft()
        recent = sum(d for _, d in recent_window) / len(recent_window) if recent_window else 0.0
        is_cut = (
            index > 0
            and distance >= params.cut_threshold
            and distance >= params.adaptive_ratio * (recent + 1.0)
        )
        if is_cut:
            cuts = self._cut_indices
            if cuts and time_s - run.times[cuts[-1]] < params.min_shot_s:
                # Two cuts too close (a flash, a one-frame slate): keep the stronger.
                if distance > run.distances[cuts[-1]]:
                    cuts[-1] = index
            else:
                cuts.append(index)
        else:
            self._recent.append((time_s, distance))
        self._window.append((time_s, sig))
        self._check_dissolves(index)

    def finish(self) -> Changes:
        """The cuts and transitions among all frames pushed."""
        run = self._run
        fades = self._fades()
        spans = sorted(fades + [(s, e, "dissolve") for s, e in self._merged_dissolves()])
        transitions: list[tuple[int, int, str]] = []
        for start, end, kind in spans:
            if transitions and start <= transitions[-1][1] + 1:
                last = transitions[-1]
                merged_kind = "fade" if "fade" in (last[2], kind) else "dissolve"
                transitions[-1] = (last[0], max(last[1], end), merged_kind)
            else:
                transitions.append((start, end, kind))
        # A transition spans [start, end]; a cut strictly inside one is part of it (the
        # sharp step at the bottom of a quick fade), a cut at its edge stays.
        cuts = [i for i in self._cut_indices if not any(s < i <= e for s, e, _ in transitions)]
        gaps = np.diff(run.times) if len(run.times) > 1 else np.array([1.0 / self.fps])
        step = float(np.median(gaps))
        return Changes(
            cuts_s=tuple(run.times[i] for i in cuts),
            transitions=tuple(
                Transition("fade" if kind == "fade" else "dissolve", *self._edges(s, e, kind, step))
                for s, e, kind in transitions
            ),
            frames=len(run.times),
        )

    def _edges(self, start: int, end: int, kind: str, step: float) -> tuple[float, float]:
        """The times a transition over frames ``start..end`` begins and ends (the first
        frame after it).

        Where the decoder skipped frames next to a fade's edge (I- and P-frames only: three
        skipped), the edge lies somewhere in the gap: the luma ramp is carried on in a
        straight line from its two outermost frames to the level of the frame beyond, and
        the edge is the first frame of the video at or past that point.
        """
        times, lumas = self._run.times, self._run.lumas
        frame = 1.0 / self.fps
        start_s = times[start]
        following = times[end + 1] if end + 1 < len(times) else times[end] + step
        end_s = min(following, times[end] + step)
        if kind != "fade" or start >= end:  # a ramp needs two frames
            return start_s, end_s
        if start > 0 and skipped_between(times[start - 1], times[start], self.fps):
            reached = _reaches(times, lumas, start + 1, start, lumas[start - 1])
            if reached is not None:
                start_s = _on_grid(reached, times[start - 1], times[start], frame)
        if end < len(times) - 1 and skipped_between(times[end], following, self.fps):
            reached = _reaches(times, lumas, end - 1, end, lumas[end + 1])
            if reached is not None:
                end_s = _on_grid(reached, times[end], following, frame)
        return start_s, end_s

    # --- dissolves -------------------------------------------------------------------------
    def _check_dissolves(self, index: int) -> None:
        window, params = self._window, self.params
        times = [t for t, _ in window]
        now = times[-1]
        # Frames may be unevenly spaced: each point is the frame nearest its time, and the
        # mixes expected there use that frame's own position between the ends.
        slack = 0.75 * (now - times[0]) / max(1, len(times) - 1) + 1e-9
        for h in self._halves:
            first = bisect.bisect_left(times, now - 2 * h - slack)
            if first >= len(times) - 4 or abs(times[first] - (now - 2 * h)) > slack:
                continue
            left = index - (len(times) - 1 - first)
            if self._cut_between(left, index):
                continue
            (t_a, a), (t_b, b) = window[first], window[-1]
            if content_distance(a, b) < params.dissolve_min_change:
                continue
            spread = float(np.abs(a.rgb - b.rgb).mean())
            if spread <= 1e-6:
                continue
            points = [self._nearest(times, now - 2 * h + q * h / 2) for q in (1, 2, 3)]
            departure = 0.0
            for at in points:
                t, middle = window[at]
                mix = a.rgb + (b.rgb - a.rgb) * ((t - t_a) / (t_b - t_a))
                departure = max(departure, float(np.abs(middle.rgb - mix).mean()))
            if departure > params.dissolve_linearity * spread:
                continue
            # Half-way through a dissolve of two unrelated pictures the contrast sags to about
            # half (var(a/2 + b/2) = (var a + var b) / 4); a pan keeps it.
            middle = window[points[1]][1]
            if middle.variance > params.dissolve_variance_dip * (a.variance + b.variance) / 2:
                continue
            self._dissolves.append(self._extent(left, first))

    @staticmethod
    def _nearest(times: list[float], target: float) -> int:
        at = bisect.bisect_left(times, target)
        if at == len(times) or (at > 0 and target - times[at - 1] < times[at] - target):
            return at - 1
        return at

    def _extent(self, left: int, first: int) -> tuple[int, int]:
        """The frames from window position ``first`` (frame ``left``) to the newest that are
        mixes, not ends.

        Each frame is projected on the line from the first to the last; the dissolve is where
        that position lies strictly between the two (5% to 95%).
        """
        frames = [sig for _, sig in list(self._window)[first:]]
        a, b = frames[0].rgb, frames[-1].rgb
        direction = b - a
        norm = float((direction * direction).sum())
        positions = [float(((f.rgb - a) * direction).sum()) / norm for f in frames]
        inside = [k for k, t in enumerate(positions) if 0.05 < t < 0.95]
        if not inside:
            return (left, left + len(frames) - 1)
        return (left + inside[0], left + inside[-1])

    def _cut_between(self, left: int, right: int) -> bool:
        at = bisect.bisect_right(self._cut_indices, left)
        return at < len(self._cut_indices) and self._cut_indices[at] <= right

    def _merged_dissolves(self) -> list[tuple[int, int]]:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(self._dissolves):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    # --- fades -----------------------------------------------------------------------------
    def _fades(self) -> list[tuple[int, int, str]]:
        """``(first, last, "fade")`` frame indices of every fade through black."""
        lumas, params = self._run.lumas, self.params
        n = len(lumas)
        black = [luma < params.black_luma for luma in lumas]
        cuts = set(self._cut_indices)
        fades: list[tuple[int, int, str]] = []
        i = 0
        while i < n:
            if not black[i]:
                i += 1
                continue
            first = i
            while i < n and black[i]:
                i += 1
            last = i - 1
            start = self._ramp(first, -1, cuts)
            end = self._ramp(last, +1, cuts)
            if start is not None or end is not None:
                fades.append(
                    (first if start is None else start, last if end is None else end, "fade")
                )
        return fades

    def _ramp(self, edge: int, direction: int, cuts: set[int]) -> int | None:
        """The far end of a steady luma ramp leading away from black frame ``edge``."""
        lumas, params = self._run.lumas, self.params
        noise = 0.25
        j = edge
        while True:
            k = j + direction
            if not 0 <= k < len(lumas):
                break
            # Away from the black, luma must keep rising; no cut may interrupt the ramp.
            if lumas[k] <= lumas[j] + noise or (max(j, k) in cuts):
                break
            j = k
        # Trim the far end while its steps are much smaller than the ramp's typical step: there
        # the luma drifts with the picture (camera motion), the fade has not begun yet.
        ramp = [lumas[edge + direction * n] for n in range(abs(j - edge) + 1)]
        rises = [b - a for a, b in itertools.pairwise(ramp)]
        if rises:
            typical = float(np.median(rises))
            while rises and rises[-1] < 0.25 * typical:
                rises.pop()
                j -= direction
        # ``j`` is the brightest frame of the ramp: the last one before the fade (or the first
        # after it), not part of it.
        steps = abs(j - edge)
        if steps >= params.min_fade_frames and lumas[j] - lumas[edge] >= params.min_fade_drop:
            return j - direction
        return None


def skipped_between(earlier_s: float, later_s: float, fps: float) -> bool:
    """Whether a frame or more lies between two frames decoded at these times (they are
    more than one and a half frame periods apart)."""
    return later_s - earlier_s > 1.5 / fps


def _reaches(
    times: list[float], lumas: list[float], inner: int, outer: int, level: float
) -> float | None:
    """When the luma line through frames ``inner`` and ``outer`` (in that direction) reaches
    ``level``, or ``None`` when it heads away from it or is flat."""
    slope = (lumas[outer] - lumas[inner]) / (times[outer] - times[inner])
    if slope == 0 or (level - lumas[outer]) / slope * (times[outer] - times[inner]) <= 0:
        return None
    return times[outer] + (level - lumas[outer]) / slope


def _on_grid(at_s: float, after_s: float, until_s: float, frame: float) -> float:
    """The first frame at or past ``at_s`` that lies after the frame at ``after_s``, no later
    than ``until_s`` (frames ``frame`` seconds apart from ``after_s``)."""
    frames = max(1, math.ceil((at_s - after_s) / frame - 1e-6))
    return min(after_s + frames * frame, until_s)

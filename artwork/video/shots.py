"""Shot detection: the interface, and the values it produces.

A :class:`ShotDetector` makes the low-resolution analysis pass over a video: it finds the shot
boundaries (hard cuts, and gradual fades and dissolves) and hands back the small frames the
extractor scores, sampled per shot, as a :class:`ShotScan`. Implementations live beside this
module and are chosen by name (``artwork.video.registry``):

=============  ================================================================================
``frames``     :class:`~artwork.video.frame_detector.FrameShotDetector`: decodes every frame at low
               resolution; exact, about 5x real time on 1080p (short or small videos).
``keyframes``  :class:`~artwork.video.keyframe_detector.KeyframeShotDetector`: decodes keyframes
               only, and short windows where they leave a boundary uncertain; 30x+ real time.
=============  ================================================================================

Detectors never hold more than ``SamplingPlan.max_frames`` small frames, whatever the length of
the video: samples are kept in a :class:`SampleGrid` as frames stream past.
"""

from __future__ import annotations

import bisect
import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from artwork.domain import Frame, VideoInfo

TransitionKind = Literal["fade", "dissolve"]

Progress = Callable[[float], None]
"""Called with the seconds of video scanned so far."""
SamplesReady = Callable[[tuple[Frame, ...]], None]
"""Called with a scan's final samples as soon as the detector knows them."""


@dataclass(frozen=True, slots=True)
class Transition:
    """A gradual transition: ``[start_s, end_s)``.

    Attributes:
        kind: ``"fade"`` (through black) or ``"dissolve"`` (one picture cross-fading into the
            next).
        start_s: its first frame's time.
        end_s: the time of the first frame after it.
    """

    kind: TransitionKind
    start_s: float
    end_s: float

    def contains(self, time_s: float) -> bool:
        """Whether ``time_s`` falls inside ``[start_s, end_s)``."""
        return self.start_s <= time_s < self.end_s


@dataclass(frozen=True, slots=True)
class Shot:
    """One shot: ``[start_s, end_s)``, numbered from 0 in time order."""

    index: int
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class ShotList:
    """The boundaries found in one video, and the shots between them.

    A shot ends at a cut, or in the middle of a transition (the outgoing and incoming shots
    each keep half of it); a transition that touches a cut adds no boundary of its own (a
    fade-out followed by a cut ends at that cut).

    Attributes:
        duration_s: length of the video.
        cuts_s: times of hard cuts (the first frame of the new shot), increasing.
        transitions: fades and dissolves, in order.
        approximate_s: boundaries known only to lie at or before these times (after the
            previous keyframe): a cut or transition the keyframe detector did not place
            exactly. They separate shots like cuts do.
    """

    duration_s: float
    cuts_s: tuple[float, ...] = ()
    transitions: tuple[Transition, ...] = ()
    approximate_s: tuple[float, ...] = ()

    @property
    def boundaries_s(self) -> tuple[float, ...]:
        """Times where one shot ends and the next begins, increasing."""
        edges = [*self.cuts_s, *self.approximate_s]
        for transition in self.transitions:
            touching = any(
                transition.start_s - 1e-6 <= cut <= transition.end_s + 1e-6 for cut in self.cuts_s
            )
            if not touching:
                edges.append((transition.start_s + transition.end_s) / 2)
        return tuple(sorted(t for t in set(edges) if 0 < t < self.duration_s))

    @property
    def shots(self) -> tuple[Shot, ...]:
        """The shots, tiling ``[0, duration_s)``."""
        edges = [0.0, *self.boundaries_s, self.duration_s]
        return tuple(Shot(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(edges)))

    def shot_at(self, time_s: float) -> int:
        """Index of the shot playing at ``time_s``."""
        return bisect.bisect_right(self.boundaries_s, time_s)

    def transition_at(self, time_s: float, *, margin_s: float = 0.0) -> float:
        """1.0 if ``time_s`` lies in a transition (widened by ``margin_s`` each side), else 0.0.

        This is the ``transition`` score of a frame: the bad-frame rule rejects it at 0.5.
        """
        for transition in self.transitions:
            if transition.start_s - margin_s <= time_s < transition.end_s + margin_s:
                return 1.0
        return 0.0


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """Which small frames a detector hands back.

    Attributes:
        width: their largest width in pixels (the analysis width, <= 320 by default).
        interval_s: wanted seconds between samples.
        max_frames: most samples per video; a long video's samples spread evenly.
        end_s: no sample at or after this time (the excluded tail: credits, spoilers).
    """

    width: int
    interval_s: float
    max_frames: int
    end_s: float

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"width must be >= 1, got {self.width}")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ValueError(f"interval_s must be > 0, got {self.interval_s}")
        if self.max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {self.max_frames}")
        if not (math.isfinite(self.end_s) and self.end_s > 0):
            raise ValueError(f"end_s must be > 0, got {self.end_s}")


@dataclass(frozen=True, slots=True, eq=False)
class ShotScan:
    """What a detector's pass produced.

    Attributes:
        detector: the detector's registry name.
        shots: the boundaries and shots.
        samples: small upright RGB frames to score, in time order (at most
            ``SamplingPlan.max_frames``).
        frames_decoded: frames the pass decoded (keyframes, windows, or every frame).
        keyframes: keyframes the video has (0 when the detector did not count them).
        keyframe_samples: every sample is a keyframe, so a full-resolution still of one
            decodes alone (:func:`~artwork.video.decode.read_frames_at` ``keyframes``).
    """

    detector: str
    shots: ShotList
    samples: tuple[Frame, ...]
    frames_decoded: int
    keyframes: int = 0
    keyframe_samples: bool = False


class ShotDetector(ABC):
    """Finds a video's shots and samples its frames in one low-resolution pass."""

    name: ClassVar[str]
    """Registry name, e.g. ``"keyframes"``."""

    @abstractmethod
    def scan(
        self,
        path: Path,
        info: VideoInfo,
        plan: SamplingPlan,
        *,
        progress: Progress | None = None,
        on_samples: SamplesReady | None = None,
    ) -> ShotScan:
        """Detect shots and sample frames.

        Args:
            path: the video file.
            info: what :func:`~artwork.video.decode.probe` found.
            plan: which frames to hand back.
            progress: called now and then with the seconds of video scanned so far.
            on_samples: called at most once, from the scanning thread, with the samples the
                scan will return, as soon as they are known and before the rest of the pass
                (the keyframe detector's refinement), so they can be scored meanwhile. A
                detector that knows them only at the end does not call it.

        Raises:
            VideoError: the file cannot be decoded.
        """


class SampleGrid:
    """Keeps, of the frames offered in time order, the one nearest each planned time.

    The planned times are :func:`~artwork.video.decode.plan_sample_times` of ``[0, end_s)``;
    a frame is kept if it is the nearest offered so far to some planned time, and replaced if
    a nearer one comes. At most one frame per planned time is ever held.

    Args:
        times_s: the planned times, increasing.
        tolerance_s: a frame farther than this from every planned time is not kept
            (``inf``: keep the nearest, however far).
    """

    def __init__(self, times_s: Sequence[float], *, tolerance_s: float = math.inf) -> None:
        if any(b <= a for a, b in itertools.pairwise(times_s)):
            raise ValueError("times_s must increase")
        self._targets = list(times_s)
        self._kept: dict[int, Frame] = {}
        self._tolerance = tolerance_s

    def offer(self, frame: Frame) -> None:
        """Consider one frame (frames must come in time order)."""
        targets = self._targets
        if not targets:
            return
        at = bisect.bisect_left(targets, frame.time_s)
        for slot in (at - 1, at):
            if not 0 <= slot < len(targets):
                continue
            gap = abs(targets[slot] - frame.time_s)
            if gap > self._tolerance:
                continue
            held = self._kept.get(slot)
            if held is None or gap < abs(targets[slot] - held.time_s):
                self._kept[slot] = frame

    def frames(self) -> tuple[Frame, ...]:
        """The frames kept, in time order, each once."""
        unique: dict[int, Frame] = {}
        for frame in self._kept.values():
            unique[id(frame)] = frame
        return tuple(sorted(unique.values(), key=lambda f: f.time_s))

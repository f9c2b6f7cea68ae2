"""The ``keyframes`` shot detector: decode the keyframes, and little else.

Decoding every frame of a 1080p film runs at about 5x real time on two cores; decoding only its
keyframes at one to two hundred times. Encoders with scene-change detection (x264, x265,
libvpx, SVT-AV1 by default) start a new GOP with a keyframe at most cuts, so the keyframes are
both a sample of every shot and a list of cut candidates. The pass:

1. **Keyframes** (:func:`~artwork.video.decode.iter_keyframes`): every packet is demuxed and
   logged (time, size, keyframe flag) but only keyframes are decoded, each reduced to a small
   analysis frame (a sample candidate) and a signature.
2. **Peeks**: a dim keyframe (mean luma under ``PEEK_LUMA``) may sit inside a fade (encoders
   put keyframes where a fade-in crosses their scene-change threshold). The ``PEEK_FRAMES``
   frames after it decode cheaply (nothing before a keyframe is needed); a steady luma ramp
   marks it as fading.
3. **Each keyframe interval** ``(K_prev, K]`` is judged from what is already known:

   - the content distance between ``K_prev`` and ``K`` (as in :mod:`artwork.video.changes`);
   - whether ``K`` sits on the encoder's regular keyframe grid (its distance from ``K_prev``
     equals the longest GOP of the video) or was placed off the grid, which an encoder does
     at a scene change;
   - whether either end is dark or fading (encoders put keyframes at the black of a fade);
   - packet-size anomalies inside the interval: a frame coded nearly as large as a keyframe
     (``SPIKE_RATIO`` times its reference size, :func:`reference_sizes`: a high percentile of
     its neighbours', which film grain does not inflate, and ``SPIKE_KEY_SHARE`` of the median
     keyframe) is a cut the encoder did not mark with a keyframe; a run of near-empty packets
     is black or frozen frames (a fade's bottom, a slate); an intra picture that is no
     keyframe (H.264 slice headers, :mod:`~artwork.video.slices`: x264 codes a shot that
     starts soon after a keyframe that way) is a cut or a fade, however grain hides its
     size. Where such pictures are more common than keyframes (periodic I pictures of
     open-GOP or broadcast streams) they are not counted.

   Unchanged content and no anomaly: one shot. Changed content at an off-grid, bright
   keyframe with no anomaly: a **cut exactly at K** (the encoder found it; nothing is
   decoded). Anything else (a change at an on-grid keyframe, where a cut or a fade happened
   somewhere inside; a dark or fading end; any anomaly) is **refined**: the interval is
   decoded small, without the deblocking filter, and run through the
   :class:`~artwork.video.changes.ChangeTracker`, which finds its cuts, fades and dissolves.
   It is first looked at **coarsely**, through its I- and P-frames only
   (:class:`~artwork.video.decode.FrameReader` ``skip_bidir``: about every fourth frame with
   x264's defaults, 60% of the work of the next level): enough to follow a fade or a dissolve,
   and to see that nothing happens, which is what most windows hold. Where that look finds a
   cut it cannot place exactly (a frame or more skipped before it, or a fade's short black
   bottom fallen between two P-frames), the interval is decoded again from its reference
   frames (``skip_nonref``: about every other frame), which places cuts to within a frame.
4. **Budget**: refinement decodes at most ``refine_budget`` (default 7%) of the video's frames
   from their reference frames, a coarse look counting ``COARSE_COST`` of that (4.2 s a minute,
   up to 7 s of video looked at coarsely; at least ``MIN_REFINE_S`` seconds of video looked
   at), those most likely to place a cut per frame decoded first: intervals whose packets point
   at a cut, then those whose end keyframe may be a cut after a fade-in from black, then
   changes at on-grid keyframes without such packets (mostly dissolves, decoded far), then
   those that only measure a fade, shortest first within each. An interval stops being decoded
   once its picture has **settled** (:class:`_Settling`: steady for the longest half of a
   dissolve, every anomalous packet behind): the rest of it is judged as an interval that is
   never decoded is (alike the keyframe that ends it: nothing
   happens; a cut apart from an off-grid, bright keyframe: a cut at that keyframe) and skipped,
   decoding resuming at the keyframe. What a window is opened for (a cut the packets point at, a
   fade at its start) usually lies early in it. The budget is charged what was decoded, so
   intervals are taken in rounds: as many as fit if each were decoded whole, then, with what
   settling saved, more of those that may hold a cut, until none left fits. Keyframe intervals
   are independent stretches of the video (each starts at a keyframe), so they are decoded side
   by side, one single-threaded decoder each (at most ``REFINE_WORKERS``, longest first;
   :class:`_IntervalDecoder`): inside one interval every frame waits for the one it refers to,
   so FFmpeg's frame threads keep barely more than one core busy, while two decoders keep two.
   Adjacent intervals are tracked as one run, its tracker reading them in time order exactly as
   if decoded one after the other, and a run is widened by a keyframe interval when a transition
   runs into its edge (an interval taken in because a transition starts at its end is decoded
   whole). An interval left over keeps its keyframe as an *approximate* boundary
   (:attr:`~artwork.video.shots.ShotList.approximate_s`): the shot assignment of keyframe
   samples stays right, the boundary time may be early. A fading keyframe whose fade was not
   measured gets a short provisional transition, so its sample is still rejected.

Samples are keyframes only (the I-frames, the best-coded pictures of the video), chosen on the
grid of :func:`~artwork.video.decode.plan_sample_times`, so every shot that has a keyframe is
sampled, long shots once per keyframe. If keyframes are too sparse to sample the video (fewer
than ``MIN_KEYFRAMES``, or than one per ``MAX_KEYFRAME_GAP_S`` on average) or packets carry no
timestamps, the detector falls back to :class:`~artwork.video.frame_detector.FrameShotDetector`.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from artwork.domain import VideoInfo
from artwork.video.changes import (
    SIGNATURE_WIDTH,
    ChangeParams,
    Changes,
    ChangeTracker,
    Signature,
    content_distance,
    signature,
    skipped_between,
)
from artwork.video.decode import (
    DecodeStats,
    FrameReader,
    PacketLog,
    iter_keyframes,
    plan_sample_times,
)
from artwork.video.frame_detector import PROGRESS_EVERY_S, FrameShotDetector
from artwork.video.shots import (
    Progress,
    SampleGrid,
    SamplesReady,
    SamplingPlan,
    ShotDetector,
    ShotList,
    ShotScan,
    Transition,
)

logger = logging.getLogger(__name__)

SPIKE_RATIO = 2.0
"""A packet this many times its :func:`reference_sizes` (and ``SPIKE_KEY_SHARE`` of the median
keyframe) is a frame coded afresh: a cut without a keyframe."""
REFERENCE_SPAN = 12
"""Packets either side that make a packet's reference size."""
REFERENCE_PERCENTILE = 85.0
SPIKE_KEY_SHARE = 0.35
EMPTY_RATIO = 0.2
EMPTY_RUN = 3
MAX_KEYFRAME_GAP_S = 12.0
MIN_KEYFRAMES = 5
MAX_EXTENSIONS = 3
PEEK_LUMA = 72.0
"""Keyframes darker than this (mean luma, 0-255) are checked for lying inside a fade."""
PEEK_FRAMES = 6
RAMP_STEP = 1.0
"""Least luma change per frame, always in one direction, of a fade seen by a peek."""
ON_GRID_ALIKE_SHARE = 1.0 / 3.0
"""A settled picture within this share of the cut threshold of the on-grid keyframe ending
its interval is taken for that keyframe's shot (:class:`_Settling`)."""
MIN_REFINE_S = 20.0
"""Refinement may always look at this many seconds of video (decoded exactly, or coarsely
at :data:`COARSE_COST`), however short the video."""
EXACT_EDGE_FRAMES = 2.5
"""How far (in frames) a transition may end from a run's edge and still touch it, when the
run was decoded from its reference frames (about every other frame)."""
COARSE_EDGE_FRAMES = 4.5
"""The same for a run looked at through its I- and P-frames (about every fourth frame)."""
COARSE_MAX_SPACING = 8
"""A coarse look that sees fewer than one frame in this many of the video it covers is
decoded again exactly (:func:`_too_sparse`); x264 leaves about one in four."""
COARSE_COST = 0.6
"""What a frame of video looked at coarsely (I- and P-frames only) costs against the
refinement budget, which counts frames decoded exactly (from every reference frame): about
0.6 measured on 1080p x264 films with and without heavy grain."""
REFINE_WORKERS = 2
"""Runs of windows decoded at once, each by its own single-threaded decoder (module
docstring, step 4)."""


@dataclass(frozen=True, slots=True)
class _Keyframe:
    time_s: float
    distance: float
    """Content distance to the previous keyframe (0 for the first)."""
    luma: float
    signature: Signature
    last_anomaly_s: float = -math.inf
    """Time of the last anomalous packet (:func:`_anomaly_at`) in the interval ending here."""
    on_grid: bool = False
    """On the encoder's regular keyframe grid (set by :meth:`KeyframeShotDetector._judge`)."""
    may_be_cut: bool = False
    """Off the encoder's keyframe grid, neither dark nor fading: where the encoder would put
    a keyframe at a scene change (set by :meth:`KeyframeShotDetector._judge`)."""


FADE_ONLY = 3
"""The :attr:`_Interval.rank` of windows that only measure a fade."""


@dataclass(frozen=True, slots=True)
class _Interval:
    """The keyframe interval ending at keyframe ``end`` (an index), ``frames`` long.

    ``may_hide_cut``: a packet-size anomaly or a content change at an on-grid keyframe, where
    a cut may lie that no keyframe marks; otherwise the window only measures a fade at a dark
    or fading keyframe, whose boundary the keyframe already gives.
    """

    end: int
    frames: int
    may_hide_cut: bool = True
    anomaly: bool = False
    """Its packets point at a cut (or black frames) inside it: their sizes, or an intra
    picture that is no keyframe."""
    end_may_be_cut: bool = False
    """Only its start was dark (a fade-in from black) and its end is a bright, off-grid
    keyframe after a change: decoding it tells whether that keyframe is a cut (the change
    measured from a dark keyframe may be the fade's alone)."""

    @property
    def rank(self) -> tuple[int, int]:
        """Decoding order, most likely to place a cut per frame decoded first: windows whose
        packets point at a cut, then those whose end may be one (decoded until the fade-in
        settles), then changes at on-grid keyframes without such packets (a cut there would
        have been coded afresh, so mostly a dissolve or motion, and decoded far), then those
        that only measure a fade; shortest first within each."""
        if self.anomaly:
            group = 0
        elif self.end_may_be_cut:
            group = 1
        elif self.may_hide_cut:
            group = 2
        else:
            group = FADE_ONLY
        return (group, self.frames)


class KeyframeShotDetector(ShotDetector):
    """Shots from keyframes, refined by short full-rate windows (see the module docstring).

    Args:
        params: thresholds of the change tracker (its ``cut_threshold`` also judges keyframe
            pairs).
        refine_budget: most frames decoded for refinement, as a share of the video's frames
            (0 refines nothing, 1 everything that asks).
        settle: skip the rest of a refined interval once its picture has settled
            (:class:`_Settling`); ``False`` decodes every chosen interval whole.
        coarse: look at a run of intervals through its I- and P-frames first
            (:class:`_IntervalDecoder`), decoding an interval again from every reference
            frame only where that look finds a cut it cannot place or saw too little
            (:meth:`_track_units`); ``False`` decodes every interval that way at once.
    """

    name: ClassVar[str] = "keyframes"

    def __init__(
        self,
        params: ChangeParams | None = None,
        *,
        refine_budget: float = 0.07,
        settle: bool = True,
        coarse: bool = True,
    ) -> None:
        if not 0.0 <= refine_budget <= 1.0:
            raise ValueError(f"refine_budget must be in [0, 1], got {refine_budget}")
        self.params = params or ChangeParams()
        self.refine_budget = refine_budget
        self.settle = settle
        self.coarse = coarse

    @property
    def _look_cost(self) -> float:
        """What a frame of video looked at costs the refinement budget, which counts
        frames decoded exactly."""
        return COARSE_COST if self.coarse else 1.0

    def scan(
        self,
        path: Path,
        info: VideoInfo,
        plan: SamplingPlan,
        *,
        progress: Progress | None = None,
        on_samples: SamplesReady | None = None,
    ) -> ShotScan:
        """See :meth:`ShotDetector.scan`; ``on_samples`` is called after the keyframe pass,
        before the peeks and the refinement."""
        end_s = min(plan.end_s, info.duration_s)
        grid = SampleGrid(
            plan_sample_times(end_s, interval_s=plan.interval_s, max_frames=plan.max_frames)
        )
        packets = PacketLog()
        stats = DecodeStats()
        keyframes: list[_Keyframe] = []
        previous: Signature | None = None
        reported = 0.0
        for frame in iter_keyframes(path, width=plan.width, packets=packets, stats=stats):
            current = signature(frame.image)
            distance = content_distance(previous, current) if previous is not None else 0.0
            keyframes.append(_Keyframe(frame.time_s, distance, current.luma, current))
            previous = current
            if frame.time_s < end_s:
                grid.offer(frame)
            if progress is not None and frame.time_s - reported >= PROGRESS_EVERY_S:
                reported = frame.time_s
                progress(reported)

        wanted = max(MIN_KEYFRAMES, info.duration_s / MAX_KEYFRAME_GAP_S)
        if not packets.timed or len(keyframes) < wanted:
            logger.info(
                "%s: %d keyframes in %.0f s%s; decoding every frame instead",
                path,
                len(keyframes),
                info.duration_s,
                "" if packets.timed else " and packets without timestamps",
            )
            return FrameShotDetector(self.params).scan(
                path, info, plan, progress=progress, on_samples=on_samples
            )

        samples = grid.frames()
        if on_samples is not None:
            on_samples(samples)

        window_stats = DecodeStats()
        with FrameReader(
            path, width=SIGNATURE_WIDTH, fast=True, skip_nonref=True, stats=window_stats
        ) as reader:
            fading = self._peek(reader, keyframes, info)
            cuts, windows = self._judge(keyframes, packets, info, fading)
            approximate: list[float] = []
            transitions = self._refine(path, reader, info, keyframes, windows, cuts, approximate)
        for index in sorted(fading):  # a fade the budget left unmeasured still flags its frames
            start = keyframes[index].time_s
            if not any(t.contains(start) for t in transitions):
                transitions.append(Transition("fade", start, start + PEEK_FRAMES / info.fps))
        if progress is not None:
            progress(info.duration_s)
        return ShotScan(
            detector=self.name,
            shots=ShotList(
                info.duration_s,
                tuple(sorted(set(cuts))),
                tuple(sorted(transitions, key=lambda t: t.start_s)),
                tuple(sorted(approximate)),
            ),
            samples=samples,
            frames_decoded=stats.decoded + window_stats.decoded,
            keyframes=len(keyframes),
            keyframe_samples=True,
        )

    # --- step 2: judging keyframe intervals ------------------------------------------------
    def _peek(self, reader: FrameReader, keyframes: list[_Keyframe], info: VideoInfo) -> set[int]:
        """Indices of dim keyframes that lie inside a fade: their next frames ramp in luma.

        Encoders put keyframes inside fades (a fade-in brightening past their scene-change
        threshold), where the content distance alone looks like a cut. Decoding a few frames
        after a keyframe costs little (nothing before it is needed), so dim keyframes are
        checked: a steady climb or fall of ``RAMP_STEP`` levels a frame or more is a fade.
        """
        fading: set[int] = set()
        for index, keyframe in enumerate(keyframes):
            if keyframe.luma >= PEEK_LUMA or keyframe.luma < self.params.black_luma:
                continue  # bright: no fade; black: already treated as dark
            end_s = keyframe.time_s + (PEEK_FRAMES + 0.5) / info.fps
            lumas = [signature(f.image).luma for f in reader.frames(keyframe.time_s, end_s)]
            steps = np.diff(lumas)
            if len(steps) >= 2 and (np.all(steps >= RAMP_STEP) or np.all(steps <= -RAMP_STEP)):
                fading.add(index)
        return fading

    def _judge(
        self,
        keyframes: list[_Keyframe],
        packets: PacketLog,
        info: VideoInfo,
        fading: set[int],
    ) -> tuple[list[float], list[_Interval]]:
        """Cuts placed at keyframes, and the intervals that need decoding."""
        times, sizes, keys = packets.arrays()
        reference = reference_sizes(sizes, keys)
        key_sizes = sizes[keys]
        key_median = float(np.median(key_sizes)) if key_sizes.size else 0.0
        gaps = [round((b.time_s - a.time_s) * info.fps) for a, b in itertools.pairwise(keyframes)]
        # The encoder's fixed keyframe interval is the longest gap (x264: 250 frames); when
        # every gap differs, treating the single longest as on the grid costs one window.
        grid_gop = max(gaps, default=0)
        # Intra pictures that are no keyframe: where an encoder coded a new shot afresh soon
        # after a keyframe. Where they are as common as keyframes (periodic I pictures of
        # open-GOP or broadcast streams) they say nothing about shots.
        intra = packets.intra_times()
        if len(intra) > len(keyframes):
            intra = intra[:0]
        cuts: list[float] = []
        windows: list[_Interval] = []
        half = 0.5 / info.fps
        for end, ((before, after), gap) in enumerate(
            zip(itertools.pairwise(keyframes), gaps, strict=True), start=1
        ):
            inside = (times > before.time_s + half) & (times < after.time_s - half)
            at = _anomaly_at(sizes[inside], reference[inside], key_median)
            last_anomaly_s = -math.inf if at is None else float(times[inside][at])
            fresh = intra[(intra > before.time_s + half) & (intra < after.time_s - half)]
            if fresh.size:
                last_anomaly_s = max(last_anomaly_s, float(fresh[-1]))
            anomaly = math.isfinite(last_anomaly_s)
            changed = after.distance >= self.params.cut_threshold
            on_grid = abs(gap - grid_gop) <= 1
            # Encoders put keyframes at the black of a fade, or in it: such an end asks for a
            # look.
            dark = (
                min(before.luma, after.luma) < self.params.black_luma
                or end in fading
                or end - 1 in fading
            )
            if not changed and not anomaly:
                continue
            if changed and not (anomaly or on_grid or dark):
                cuts.append(after.time_s)
                continue
            reasons = ("packet sizes " if at is not None else "") + (
                "intra picture " if fresh.size else ""
            )
            reasons += "dark/fading " if dark else ""
            reasons += "change at an on-grid keyframe" if changed and on_grid else ""
            logger.debug(
                "window %.2f-%.2f s (%d frames): %s",
                before.time_s,
                after.time_s,
                gap + 1,
                reasons.strip() or "change",
            )
            end_dark = after.luma < self.params.black_luma or end in fading
            keyframes[end] = replace(
                after,
                last_anomaly_s=last_anomaly_s,
                on_grid=on_grid,
                may_be_cut=not (on_grid or end_dark),
            )
            windows.append(
                _Interval(
                    end,
                    gap + 1,
                    may_hide_cut=anomaly or (changed and on_grid),
                    anomaly=anomaly,
                    end_may_be_cut=changed and not (anomaly or on_grid or end_dark),
                )
            )
        return cuts, windows

    # --- step 3: refining ------------------------------------------------------------------
    def _refine(
        self,
        path: Path,
        reader: FrameReader,
        info: VideoInfo,
        keyframes: list[_Keyframe],
        windows: list[_Interval],
        cuts: list[float],
        approximate: list[float],
    ) -> list[Transition]:
        """Decode the uncertain intervals within the budget (adding to ``cuts``); the rest
        keep their keyframe as an approximate boundary.

        The budget is charged what was decoded: an interval up to where it settled
        (:class:`_Settling`), or whole. Intervals are picked in rounds, in rank order, as many
        as fit if each were decoded whole; what settling saves in one round pays for the
        next (intervals that may hold a cut only), until no interval left fits.
        """
        # The budget counts frames of video decoded exactly; a coarse look costs less. The
        # floor is video to look at, whichever way.
        cost = self._look_cost
        seconds = max(self.refine_budget * info.duration_s, MIN_REFINE_S * cost)
        budget = seconds * info.fps if self.refine_budget > 0 else 0.0
        chosen: set[int] = set()  # keyframe indices ending a chosen interval
        spent = 0.0  # what was decoded (up to where each interval settled)
        whole = 0.0  # what the chosen intervals would have taken whole
        waiting = sorted(windows, key=lambda w: w.rank)
        kind = _SETTLE if self.settle else _WHOLE

        def frames(first: int, last: int) -> int:
            return round((keyframes[last].time_s - keyframes[first].time_s) * info.fps) + 1

        with _IntervalDecoder(path, reader, keyframes, self, info.fps) as decoder:
            while True:
                batch: list[_Interval] = []
                reserved = spent
                for window in waiting:
                    # After the first round, savings go to intervals that may hold a cut;
                    # what only measures a fade comes after widening runs over transitions.
                    if chosen and window.rank[0] == FADE_ONLY:
                        continue
                    if reserved + window.frames * cost <= budget:
                        batch.append(window)
                        reserved += window.frames * cost
                if not batch:
                    break
                waiting = [w for w in waiting if w not in batch]
                # Longest first, so the two decoders finish together.
                units: list[_Unit] = [(w.end, kind) for w in batch]
                units.sort(key=lambda u: -frames(u[0] - 1, u[0]))
                decoder.prefetch(units, coarse=self.coarse)
                spent += cost * sum(
                    decoder.stretch(unit, coarse=self.coarse).charged for unit in units
                )
                chosen.update(w.end for w in batch)
                whole += cost * sum(w.frames for w in batch)
            approximate.extend(keyframes[w.end].time_s for w in waiting)
            if waiting:
                logger.info(
                    "%s: refinement budget spent; %d of %d uncertain keyframe intervals kept "
                    "their keyframe as the boundary",
                    path,
                    len(waiting),
                    len(windows),
                )
            # Widening runs over transitions is charged as before settling (intervals whole),
            # so what settling saved goes to intervals that may hold a cut, not to widening.
            return self._measure(decoder, info, keyframes, chosen, cuts, budget, whole, frames)

    def _measure(
        self,
        decoder: _IntervalDecoder,
        info: VideoInfo,
        keyframes: list[_Keyframe],
        chosen: set[int],
        cuts: list[float],
        budget: float,
        spent: float,
        frames: Callable[[int, int], int],
    ) -> list[Transition]:
        """Track the chosen runs in time order, widening them over transitions cut off at
        their edges while the budget lasts (adding to ``cuts``)."""
        transitions: list[Transition] = []
        cost = self._look_cost
        slack = (COARSE_EDGE_FRAMES if self.coarse else EXACT_EDGE_FRAMES) / info.fps
        covered = 0  # keyframe index up to which the video has been decoded
        for end in sorted(chosen):
            if end <= covered:
                continue
            first, last = max(end - 1, covered), end
            while last + 1 in chosen:  # adjacent intervals make one run
                last += 1
            origin = first
            changes, again = self._track(decoder, keyframes, first, last, info.fps)
            spent += again
            # A transition cut off by the run's edge continues in the next interval out:
            # take that in too (a few times at most, within the budget), to measure it whole.
            for _ in range(MAX_EXTENSIONS):
                earlier = first > covered and _touches(changes, keyframes[first].time_s, slack)
                later = last < len(keyframes) - 1 and _touches(
                    changes, keyframes[last].time_s + 1.0 / info.fps, slack, at_end=True
                )
                wider = (first - int(earlier), last + int(later))
                extra = cost * (frames(*wider) - frames(first, last))
                if not (earlier or later) or spent + extra > budget:
                    break
                spent += extra
                first, last = wider
                # An interval taken in before the run is wanted for its end, where the
                # transition starts: it is decoded whole.
                changes, again = self._track(
                    decoder, keyframes, first, last, info.fps, settle_after=origin
                )
                spent += again
            covered = last
            cuts.extend(changes.cuts_s)
            transitions.extend(changes.transitions)
        return transitions

    def _track(
        self,
        decoder: _IntervalDecoder,
        keyframes: list[_Keyframe],
        first: int,
        last: int,
        fps: float,
        *,
        settle_after: int | None = None,
    ) -> tuple[Changes, int]:
        """Cuts and transitions from keyframe ``first`` through keyframe ``last``, and the
        frames of video decoded again exactly for them (see below).

        Each keyframe interval ending after keyframe ``settle_after`` (default ``first``) is
        decoded until its picture has settled (:class:`_Settling`), and the rest of it is
        judged from there and skipped: decoding resumes at the keyframe that ends it, since
        nothing after a keyframe refers to what came before it. Each stretch decoded without
        a gap has its own tracker.

        With ``coarse`` the run is first tracked through its I- and P-frames (about every
        fourth frame): enough to follow a fade or a dissolve and to see that nothing
        happens, which is what most windows hold. A cut the tracker finds there is placed
        only within a few frames, and a fade's black bottom a few frames short can fall
        between two P-frames and look like a cut, so the intervals holding such cuts (and
        the others :meth:`_track_units` names) are decoded again from their reference frames
        (about every other frame) and the run is tracked once more, those intervals exactly
        and the rest as before. Cuts at keyframes (the :class:`_Settling` verdicts) are
        exact either way.
        """
        settle_after = first if settle_after is None else settle_after
        units = [
            (end, _SETTLE if self.settle and end > settle_after else _WHOLE)
            for end in range(first + 1, last + 1)
        ]
        units.append((last, _KEYFRAME))
        if not self.coarse:
            changes, _ = self._track_units(decoder, keyframes, units, fps, exact=set(units))
            return changes, 0
        changes, again = self._track_units(decoder, keyframes, units, fps, exact=set())
        if not again:
            return changes, 0
        logger.debug(
            "run %.2f-%.2f s: the coarse look cannot place changes at %s; decoding again: %s",
            keyframes[first].time_s,
            keyframes[last].time_s,
            ", ".join(f"{t:.2f}" for t in again.values()),
            ", ".join(f"{keyframes[u[0]].time_s:.2f} ({u[1]})" for u in sorted(again)),
        )
        changes, _ = self._track_units(decoder, keyframes, units, fps, exact=set(again))
        extra = sum(decoder.stretch(u).charged for u in again)  # a keyframe's own: 0
        return changes, extra

    def _track_units(
        self,
        decoder: _IntervalDecoder,
        keyframes: list[_Keyframe],
        units: list[_Unit],
        fps: float,
        *,
        exact: set[_Unit],
    ) -> tuple[Changes, dict[_Unit, float]]:
        """:meth:`_track` over these units, those in ``exact`` decoded from their reference
        frames and the others coarsely: the changes, and the coarse units to decode exactly,
        each with the time that asks for it.

        A coarse unit is asked for where a frame a frame or more after the one before it
        (frames were skipped between) is a cut the tracker found, or differs from the frame
        before by the cut threshold outside any transition found: under fast motion frames
        four apart differ so much that a cut among them no longer stands out from the
        preceding second, which the tracker's cut rule asks for. A change at a unit's first
        frame asks for the unit before it too (it happened after that unit's last frame).
        A coarse unit that saw too little of its interval (:func:`_too_sparse`) asks for
        itself. Keyframes judged cuts by :class:`_Settling` ask for nothing.
        """
        found: list[Changes] = []
        again: dict[_Unit, float] = {}
        tracker = ChangeTracker(fps, self.params)
        owners: dict[float, tuple[_Unit, ...]] = {}  # frame time -> units a change there is in
        jumps: list[float] = []  # frames after a gap that differ by the cut threshold

        def finish() -> None:
            found.append(tracker.finish())
            changes = found[-1]
            inside = changes.transitions
            unexplained = [t for t in jumps if not any(x.start_s <= t < x.end_s for x in inside)]
            for time_s in (*changes.cuts_s, *unexplained):
                for unit in owners.get(time_s, ()):
                    if unit not in exact:
                        again.setdefault(unit, time_s)

        previous: _Unit | None = None
        last: tuple[float, Signature] | None = None
        for unit in units:
            stretch = decoder.stretch(unit, coarse=unit not in exact)
            if unit not in exact and _too_sparse(stretch):
                again.setdefault(unit, keyframes[unit[0] - 1].time_s)
            for n, (time_s, sig) in enumerate(stretch.frames):
                tracker.push(time_s, sig)
                if last is not None and skipped_between(last[0], time_s, fps):
                    at_start = n == 0 and previous is not None
                    owners[time_s] = (unit, previous) if at_start and previous else (unit,)
                    if content_distance(last[1], sig) >= self.params.cut_threshold:
                        jumps.append(time_s)
                last = (time_s, sig)
            previous = unit
            if stretch.verdict is not None:
                # The rest of the interval was skipped: what follows is tracked apart.
                finish()
                if stretch.verdict == _Settling.CUT:
                    found.append(Changes((keyframes[unit[0]].time_s,), (), 0))
                tracker = ChangeTracker(fps, self.params)
                owners, jumps = {}, []
                previous = None
                last = None
        if tracker.frames:
            finish()
        changes = _joined(found)
        logger.debug(
            "run %.2f-%.2f s (%d of %d units exact): %d frames tracked, %d cuts, %d transitions",
            keyframes[units[0][0] - 1].time_s,
            keyframes[units[-1][0]].time_s,
            len(exact),
            len(units),
            changes.frames,
            len(changes.cuts_s),
            len(changes.transitions),
        )
        return changes, again

    def _stretch(
        self, reader: FrameReader, keyframes: list[_Keyframe], unit: _Unit, fps: float
    ) -> _Stretch:
        """The signatures of a unit of decoding: ``(end, _WHOLE)``, the interval ending at
        keyframe ``end`` (up to, not including it); ``(end, _SETTLE)``, the same until it
        settles; ``(index, _KEYFRAME)``, that keyframe's own frame: its signature from the
        keyframe pass, not decoded again (a 1080p keyframe costs about 50 ms)."""
        index, kind = unit
        settling: _Settling | None = None
        if kind == _KEYFRAME:
            keyframe = keyframes[index]
            return _Stretch([(keyframe.time_s, keyframe.signature)], None, 0)
        else:
            start = keyframes[index - 1]
            stop_s = keyframes[index].time_s
            if kind == _SETTLE:
                span_s = max(self.params.dissolve_halves_s)
                settling = _Settling(keyframes[index], self.params, span_s)
        frames: list[tuple[float, Signature]] = []
        for frame in reader.frames(start.time_s, stop_s, at_keyframe=True):
            current = signature(frame.image)
            frames.append((frame.time_s, current))
            verdict = settling.verdict(frame.time_s, current) if settling else None
            if verdict is not None:
                logger.debug(
                    "interval to %.2f s settled at %.2f s (%s)", stop_s, frame.time_s, verdict
                )
                covered = round((frame.time_s - start.time_s) * fps) + 1
                return _Stretch(frames, verdict, covered)
        return _Stretch(frames, None, round((stop_s - start.time_s) * fps))


_WHOLE, _SETTLE, _KEYFRAME = "whole", "settle", "keyframe"
_Unit = tuple[int, str]
"""A unit of decoding (:meth:`KeyframeShotDetector._stretch`)."""


@dataclass(frozen=True, slots=True)
class _Stretch:
    """What decoding one keyframe interval gave: its frames' signatures in time order, the
    :class:`_Settling` verdict on the rest of it (``None``: decoded to its end), and the
    frames of the video it covered (what the refinement budget is charged)."""

    frames: list[tuple[float, Signature]]
    verdict: str | None
    charged: int


class _Settling:
    """Watches a keyframe interval being decoded for the point where the rest of it can be
    skipped, and says what the skipped part holds.

    The picture has *settled* once it has held steady (every frame within half the cut
    threshold of the first, none dark) for ``span_s`` seconds, the longest half of a
    dissolve, so no fade or dissolve between pictures a cut apart is under way, and every
    anomalous packet of the interval (a cut or black frames its packet sizes hint at) lies
    behind. What is left up to the keyframe ending the interval is then judged the way
    :meth:`KeyframeShotDetector._judge` judges an interval it does not decode:

    - the picture alike that keyframe (content distance under the cut threshold; under a
      third of it when the keyframe is on the encoder's regular grid, which says nothing
      about where scenes change): nothing changes up to it;
    - the picture unlike it (at least the cut threshold) and the keyframe off the grid,
      neither dark nor fading: the encoder placed it at the change, a **cut at the
      keyframe**;
    - anything else: decoding goes on.
    """

    ALIKE: ClassVar[str] = "alike"
    CUT: ClassVar[str] = "cut"

    def __init__(self, end: _Keyframe, params: ChangeParams, span_s: float) -> None:
        self._end = end
        self._steady = params.cut_threshold / 2
        self._alike = params.cut_threshold * (ON_GRID_ALIKE_SHARE if end.on_grid else 1.0)
        self._cut = params.cut_threshold
        self._black = params.black_luma
        self._span_s = span_s
        self._anchor: Signature | None = None
        self._since = 0.0

    def verdict(self, time_s: float, sig: Signature) -> str | None:
        """Note the next frame: ``ALIKE`` or ``CUT`` once the rest of the interval may be
        skipped (see the class docstring), else ``None``."""
        if sig.luma < self._black:
            self._anchor = None
            return None
        if self._anchor is None or content_distance(self._anchor, sig) >= self._steady:
            self._anchor, self._since = sig, time_s
        if time_s - self._since < self._span_s or time_s <= self._end.last_anomaly_s:
            return None
        distance = content_distance(sig, self._end.signature)
        if distance < self._alike:
            return self.ALIKE
        if self._end.may_be_cut and distance >= self._cut:
            return self.CUT
        return None


def _joined(parts: list[Changes]) -> Changes:
    """The changes of stretches decoded one after the other, as one."""
    if len(parts) == 1:
        return parts[0]
    parts = [part for part in parts if part.frames or part.cuts_s]
    return Changes(
        cuts_s=tuple(t for part in parts for t in part.cuts_s),
        transitions=tuple(t for part in parts for t in part.transitions),
        frames=sum(part.frames for part in parts),
    )


def _runs(chosen: set[int]) -> list[tuple[int, int]]:
    """The runs ``(first, last)`` keyframe indices that :meth:`KeyframeShotDetector._measure`
    tracks when no run is widened: adjacent chosen intervals joined."""
    runs: list[tuple[int, int]] = []
    covered = 0
    for end in sorted(chosen):
        if end <= covered:
            continue
        first, last = max(end - 1, covered), end
        while last + 1 in chosen:
            last += 1
        runs.append((first, last))
        covered = last
    return runs


class _IntervalDecoder:
    """Decodes keyframe intervals (:meth:`KeyframeShotDetector._stretch`): those handed to
    :meth:`prefetch` in worker threads, one single-threaded :class:`FrameReader` each, the
    others in the calling thread when asked for.

    Every interval starts at a keyframe, so intervals decode independently, whichever
    reader does it, and a run's tracker reads them in time order afterwards; intervals
    rather than runs are handed out, so one long run does not keep one core busy while the
    other waits.

    Each unit is decoded at one of two levels: *exact* (the pass's reader: every reference
    frame, about every other frame with x264's defaults) or *coarse* (I- and P-frames only,
    ``skip_bidir``: about every fourth frame, for 60% of the work).
    """

    def __init__(
        self,
        path: Path,
        reader: FrameReader,
        keyframes: list[_Keyframe],
        detector: KeyframeShotDetector,
        fps: float,
    ) -> None:
        self._path = path
        self._reader = reader
        self._keyframes = keyframes
        self._detector = detector
        self._fps = fps
        self._futures: dict[tuple[_Unit, bool], Future[_Stretch]] = {}
        self._done: dict[tuple[_Unit, bool], _Stretch] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._readers: list[FrameReader] = []
        self._coarse_reader: FrameReader | None = None
        self._lock = threading.Lock()
        self._blind = False
        """A coarse look saw too little (:func:`_too_sparse`): every later unit is decoded
        exactly at once."""

    def __enter__(self) -> _IntervalDecoder:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for worker in self._readers:
            self._reader.stats.decoded += worker.stats.decoded
            self._reader.stats.yielded += worker.stats.yielded
            self._reader.stats.bad_packets += worker.stats.bad_packets
            self._reader.stats.corrupt_frames += worker.stats.corrupt_frames
            worker.close()

    def prefetch(self, units: list[_Unit], *, coarse: bool = False) -> None:
        """Start decoding these units in worker threads, in this order (nothing for one:
        the calling thread's reader, with FFmpeg's threads, does as well)."""
        coarse = coarse and not self._blind
        units = [u for u in units if (u, coarse) not in self._done]
        units = [u for u in units if (u, coarse) not in self._futures]
        if len(units) < 2 or min(REFINE_WORKERS, os.cpu_count() or 1) < 2:
            return
        if self._pool is None:
            workers = min(REFINE_WORKERS, os.cpu_count() or 1)
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="artwork-refine")
        for unit in units:
            self._futures[unit, coarse] = self._pool.submit(self._in_worker, unit, coarse)

    def stretch(self, unit: _Unit, *, coarse: bool = False) -> _Stretch:
        """The frames of one unit (:meth:`KeyframeShotDetector._stretch`) at one level:
        decoded once, prefetched or now, and kept (a run widened over it reads it again).
        Asked for coarsely, not yet begun, once a coarse look has proved blind, it is decoded
        exactly."""
        started = (unit, True) in self._done or (unit, True) in self._futures
        if coarse and self._blind and not started:
            coarse = False
        key = (unit, coarse)
        done = self._done.get(key)
        if done is not None:
            return done
        future = self._futures.pop(key, None)
        if future is not None:
            result = future.result()
        else:
            reader = self._reader if not coarse else self._own_coarse_reader()
            result = self._detector._stretch(reader, self._keyframes, unit, self._fps)
            if coarse and _too_sparse(result):
                self._blind = True
        self._done[key] = result
        return result

    def _own_coarse_reader(self) -> FrameReader:
        if self._coarse_reader is None:
            self._coarse_reader = self._open(coarse=True, threads=0)
        return self._coarse_reader

    def _open(self, *, coarse: bool, threads: int) -> FrameReader:
        base = self._reader
        reader = FrameReader(
            self._path,
            width=base.width,
            fast=base.fast,
            skip_nonref=base.skip_nonref,
            skip_bidir=coarse,
            threads=threads,
        )
        with self._lock:
            self._readers.append(reader)
        return reader

    def _in_worker(self, unit: _Unit, coarse: bool) -> _Stretch:
        readers: dict[bool, FrameReader] | None = getattr(self._local, "readers", None)
        if readers is None:
            readers = self._local.readers = {}
        reader = readers.get(coarse)
        if reader is None:
            reader = readers[coarse] = self._open(coarse=coarse, threads=1)
        result = self._detector._stretch(reader, self._keyframes, unit, self._fps)
        if coarse and _too_sparse(result):
            self._blind = True
        if coarse and (_too_sparse(result) or _shows_cut(result, self._fps, self._detector.params)):
            # The run will be tracked again from its reference frames
            # (:meth:`KeyframeShotDetector._track`): decode this unit for it now, while the
            # other worker is busy too, rather than afterwards in the calling thread alone.
            self._done[unit, False] = self._in_worker(unit, coarse=False)
        return result


def _too_sparse(stretch: _Stretch) -> bool:
    """Whether a coarse look at an interval saw too little of it to go by: fewer than one
    frame in ``COARSE_MAX_SPACING`` of the video it covered. An encoder that codes its
    P-pictures as B-slices (x265's default generalised B-frames) leaves only the keyframes
    to such a look."""
    return stretch.charged >= 2 * COARSE_MAX_SPACING and (
        len(stretch.frames) * COARSE_MAX_SPACING < stretch.charged
    )


def _shows_cut(stretch: _Stretch, fps: float, params: ChangeParams) -> bool:
    """Whether the change tracker finds a cut among a stretch's frames alone that it cannot
    place exactly (a frame or more was skipped before it)."""
    tracker = ChangeTracker(fps, params)
    after_gap: set[float] = set()
    previous = -math.inf
    for time_s, sig in stretch.frames:
        tracker.push(time_s, sig)
        if skipped_between(previous, time_s, fps):
            after_gap.add(time_s)
        previous = time_s
    return any(cut in after_gap for cut in tracker.finish().cuts_s)


def _touches(changes: Changes, edge_s: float, slack_s: float, *, at_end: bool = False) -> bool:
    """Whether a transition starts at (or, with ``at_end``, ends at) the run's edge, give or
    take ``slack_s`` (the spacing of the frames it was measured on)."""
    slack = slack_s
    for transition in changes.transitions:
        edge = transition.end_s if at_end else transition.start_s
        if abs(edge - edge_s) <= slack:
            return True
    return False


def _anomaly_at(
    sizes: NDArray[np.int64], reference: NDArray[np.float64], key_median: float
) -> int | None:
    """Where packet sizes inside a keyframe interval hint at a cut or black frames: the index
    of the last such packet (a spike, or the end of a run of near-empty ones), or ``None``.

    Args:
        sizes: the interval's packet sizes, in presentation order.
        reference: :func:`reference_sizes` at the same packets.
        key_median: the video's median keyframe size.
    """
    if sizes.size < 2:
        return None
    last: int | None = None
    spiking = (sizes >= SPIKE_RATIO * reference) & (sizes >= SPIKE_KEY_SHARE * key_median)
    spikes = np.flatnonzero(spiking)
    if spikes.size:
        last = int(spikes[-1])
    median = float(np.median(sizes))
    empty = sizes <= EMPTY_RATIO * median
    run = 0
    for index, flag in enumerate(empty):
        run = run + 1 if flag else 0
        if run >= EMPTY_RUN and (last is None or index > last):
            last = index
    return last


def reference_sizes(sizes: NDArray[np.int64], keys: NDArray[np.bool_]) -> NDArray[np.float64]:
    """What each packet "should" weigh: a high percentile of its non-key neighbours' sizes.

    Frame types differ in size (a P-frame several times a B-frame), and film grain, which no
    prediction removes, makes every reference frame costly and every size noisy; compared
    with the median of all packets, ordinary P-frames of grainy footage look like spikes. With
    at most three B-frames between reference frames (x264's default), at least a quarter of
    the packets are reference frames, so the ``REFERENCE_PERCENTILE`` of the
    ``REFERENCE_SPAN`` packets either side (itself and keyframes left out) is the size of a
    typical reference frame there, and one frame coded afresh (a cut the encoder did not mark
    with a keyframe) does not raise it: a spike against it is a cut, not grain.

    Args:
        sizes: packet sizes in presentation order.
        keys: their keyframe flags.

    Returns:
        One reference size per packet (``inf`` where no neighbour exists).
    """
    span = REFERENCE_SPAN
    values = np.where(keys, np.nan, sizes.astype(np.float64))
    padded = np.pad(values, span, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * span + 1).copy()
    windows[:, span] = np.nan
    # np.nanpercentile's linear interpolation, row by row, without its per-row Python loop
    # (a tenth of a second per minute of video): NaNs sort last, so each row's first
    # ``count`` values are its known ones, in order.
    windows.sort(axis=1)
    count = np.count_nonzero(~np.isnan(windows), axis=1)
    reference = np.full(len(sizes), np.inf)
    known = count > 0
    if known.any():
        rows = windows[known]
        position = (count[known] - 1) * (REFERENCE_PERCENTILE / 100.0)
        below = np.floor(position).astype(np.intp)
        above = np.minimum(below + 1, count[known] - 1)
        index = np.arange(len(rows))
        low, high = rows[index, below], rows[index, above]
        reference[known] = low + (high - low) * (position - below)
    return reference

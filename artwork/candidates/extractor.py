"""The offline extractor: one video file in, K candidate stills with their scores out.

::

    probe ─▶ ShotDetector.scan: one low-resolution pass (<= analysis_width px wide) that finds
             cuts, fades and dissolves and samples frames per shot, never past the excluded
             tail (keyframes only for long videos; every frame for short ones)
          ─▶ FrameScorers per sample (quality, text, faces, composition) ─▶ embedder, in
             batches (in a second thread, beside the scan's refinement, when the detector
             hands its samples over early) + transition/shot from the scan
          ─▶ select_frames (drop bad: black, blurry, text, transition...; one still per shot;
             de-duplicate; diverse top-K)
          ─▶ read_frames_at (full resolution, winners only) ─▶ tagger ─▶ Candidate

Only the sampled small frames are held (at most ``max_sampled_frames`` at ``analysis_width``),
never the video. Nothing is written: the caller stores the :class:`~artwork.domain.Extraction`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from artwork.candidates.select import SelectionParams, select_frames
from artwork.config import Settings
from artwork.domain import Candidate, Embedding, Extraction, Frame, ScoredFrame, VideoInfo
from artwork.scoring.base import Embedder, FrameScorer
from artwork.scoring.quality import BadFrameThresholds, quality
from artwork.scoring.registry import default_frame_scorers
from artwork.scoring.tags import Tagger, create_tagger
from artwork.video.decode import probe, read_frames_at
from artwork.video.registry import create_shot_detector
from artwork.video.shots import SamplingPlan, ShotDetector, ShotList, ShotScan

logger = logging.getLogger(__name__)

EMBED_BATCH = 32
"""Frames embedded together."""
SCAN_SHARE = 80
"""Percent of the progress bar given to the shot detector's pass (the rest: scoring)."""

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: percent done of one extraction (``total`` is 100)."""
T = TypeVar("T")


Deferred = Callable[[], T]
"""A value built on first need: the extractor calls it after the scan, so an embedder that
loads in the background (``artwork.scoring.loading``) never delays decoding."""


@dataclass(frozen=True, slots=True, eq=False)
class SampleScores:
    """The scorers' scores and the embeddings of a scan's samples, in their order.

    Attributes:
        samples: the frames scored.
        scores: each frame's merged scorer scores (without the scan's ``transition``).
        embeddings: each frame's embedding.
        model: the embedder that made them.
    """

    samples: tuple[Frame, ...]
    scores: tuple[dict[str, float], ...]
    embeddings: tuple[Embedding, ...]
    model: Embedder


@dataclass(frozen=True, slots=True, eq=False)
class ScannedVideo:
    """The first half of an extraction: the video probed and scanned (shots and samples).

    Attributes:
        path: the video file.
        info: what :func:`~artwork.video.decode.probe` found.
        scan: the shot detector's pass.
        started: ``time.perf_counter()`` when the scan began.
        scanned: ``time.perf_counter()`` when it ended.
        early: the samples being scored in a second thread since the detector handed them
            over, or ``None`` (no embedder was given to :func:`scan_video`, or the detector
            knew its samples only at the end).
    """

    path: Path
    info: VideoInfo
    scan: ShotScan
    started: float
    scanned: float
    early: Future[SampleScores] | None = None


def extract(
    path: Path,
    settings: Settings,
    embedder: Embedder | Deferred[Embedder],
    *,
    progress: ProgressCallback | None = None,
    scorers: Sequence[FrameScorer] | None = None,
    params: SelectionParams | None = None,
    detector: ShotDetector | None = None,
    tagger: Tagger | Deferred[Tagger] | None = None,
) -> Extraction:
    """Find the best ``settings.variants_per_title`` artwork candidates of a video.

    :func:`scan_video` then :func:`finish_extraction`; a batch runs the first of the next file
    while the second of this one runs (``artwork.ingest``).

    Args:
        path: the video file.
        settings: ``analysis_width``, ``sample_interval_s``, ``max_sampled_frames``,
            ``exclude_tail_fraction``, ``variants_per_title``, the shot detector's and the
            bad-frame rule's settings are read.
        embedder: content embedder (its name is recorded on the extraction), or a callable
            returning it, called once the scan and the frame scores are done.
        progress: called as ``progress(percent_done, 100)`` as the work goes, and once at the
            end with ``(100, 100)``.
        scorers: per-frame scorers whose scores are merged (a later one wins a clash);
            default :func:`~artwork.scoring.registry.default_frame_scorers`. The merged scores
            must include what :func:`~artwork.scoring.quality.quality` needs.
        params: selection parameters; default :class:`SelectionParams` with the bad-frame
            thresholds of the settings.
        detector: shot detector; default the one ``settings.shot_detector`` names.
        tagger: tags the final candidates (or a callable returning it); default
            :func:`~artwork.scoring.tags.create_tagger` for ``embedder``.

    Returns:
        The video's description, the embedder's name, and up to K candidates (full-resolution
        images), best first; fewer when the video has fewer good, distinct moments.

    Raises:
        VideoError: the file cannot be used.
    """
    if scorers is not None and not scorers:
        raise ValueError("scorers must hold at least one FrameScorer, got none")
    scanned = scan_video(
        path, settings, progress=progress, detector=detector, scorers=scorers, embedder=embedder
    )
    return finish_extraction(
        scanned,
        settings,
        embedder,
        progress=progress,
        scorers=scorers,
        params=params,
        tagger=tagger,
    )


def scan_video(
    path: Path,
    settings: Settings,
    *,
    progress: ProgressCallback | None = None,
    detector: ShotDetector | None = None,
    scorers: Sequence[FrameScorer] | None = None,
    embedder: Embedder | Deferred[Embedder] | None = None,
) -> ScannedVideo:
    """Probe and scan a video: its shots and its sampled small frames.

    With an ``embedder``, samples the detector hands over before its pass ends (the keyframe
    detector's, before it refines its boundaries) are scored and embedded in a second thread
    meanwhile (:attr:`ScannedVideo.early`): decoding, OpenCV and ONNX Runtime release the GIL,
    so the two share the cores. :func:`finish_extraction` then only waits for them.

    Args:
        path: the video file.
        settings: the sampling and shot detector's settings are read.
        progress: called as ``progress(percent_done, 100)``, up to ``SCAN_SHARE`` percent.
        detector: shot detector; default the one ``settings.shot_detector`` names.
        scorers: frame scorers for the early scores; default
            :func:`~artwork.scoring.registry.default_frame_scorers`.
        embedder: the embedder (or a callable returning it, called in the second thread);
            ``None`` leaves all scoring to :func:`finish_extraction`.

    Raises:
        VideoError: the file cannot be used.
    """
    started = time.perf_counter()
    info = probe(path)
    detector = detector or create_shot_detector(settings, info)
    plan = SamplingPlan(
        width=settings.analysis_width,
        interval_s=settings.sample_interval_s,
        max_frames=settings.max_sampled_frames,
        end_s=info.duration_s * (1.0 - settings.exclude_tail_fraction),
    )

    def scanned(seconds: float) -> None:
        if progress is not None:
            progress(min(SCAN_SHARE, int(SCAN_SHARE * seconds / info.duration_s)), 100)

    early: Future[SampleScores] | None = None

    def score_early(samples: tuple[Frame, ...]) -> None:
        nonlocal early
        if embedder is None or early is not None:
            return
        early = Future()
        chosen = default_frame_scorers(settings) if scorers is None else scorers
        threading.Thread(
            target=run_into,
            args=(early, lambda: _score_samples(samples, chosen, embedder, None)),
            name="artwork-score",
            daemon=True,
        ).start()

    scan = detector.scan(path, info, plan, progress=scanned, on_samples=score_early)
    return ScannedVideo(path, info, scan, started, time.perf_counter(), early)


def finish_extraction(
    scanned: ScannedVideo,
    settings: Settings,
    embedder: Embedder | Deferred[Embedder],
    *,
    progress: ProgressCallback | None = None,
    scorers: Sequence[FrameScorer] | None = None,
    params: SelectionParams | None = None,
    tagger: Tagger | Deferred[Tagger] | None = None,
) -> Extraction:
    """Score, embed and select the scanned samples, then decode, tag the winners.

    Args:
        scanned: from :func:`scan_video`. When it scored its samples already
            (:attr:`ScannedVideo.early`), those scores and embeddings are used, and
            ``scorers`` and ``embedder`` here are not.
        settings, embedder, progress, scorers, params, tagger: as for :func:`extract`.

    Raises:
        VideoError: the file cannot be read again for the full-resolution stills.
    """
    if scorers is not None and not scorers:
        raise ValueError("scorers must hold at least one FrameScorer, got none")
    path, info, scan = scanned.path, scanned.info, scanned.scan
    resumed = time.perf_counter()
    scorers = default_frame_scorers(settings) if scorers is None else scorers
    params = params or SelectionParams(thresholds=BadFrameThresholds.from_settings(settings))
    early = scanned.early.result() if scanned.early is not None else None
    if early is None or early.samples is not scan.samples:
        early = _score_samples(scan.samples, scorers, embedder, progress)
    model = early.model
    scored = _scored_frames(early, scan.shots)
    scored_at = time.perf_counter()

    selection = select_frames(scored, settings.variants_per_title, params)
    picks = [pick.frame for pick in selection.picks]
    stills = read_frames_at(
        path,
        [scored_frame.frame.time_s for scored_frame in picks],
        keyframes=scan.keyframe_samples,
    )
    if tagger is None:
        tagger = create_tagger(model, settings)
    elif not isinstance(tagger, Tagger):
        tagger = tagger()
    tags = tagger.tag(
        [still.image for still in stills],
        _embeddings(picks),
        scores=[scored_frame.scores for scored_frame in picks],
    )
    candidates = tuple(
        Candidate(
            time_s=still.time_s,
            frame_index=still.index,
            score=pick.score,
            scores=dict(pick.frame.scores),
            tags={**pick.frame.tags, **still_tags},
            embedding=_embedding(pick.frame),
            image=still.image,
            explanation=pick.explanation,
            shot=pick.frame.shot,
        )
        for pick, still, still_tags in zip(selection.picks, stills, tags, strict=True)
    )
    finished = time.perf_counter()
    if progress is not None:
        progress(100, 100)
    # A scan that ran ahead (a batch) waited for this file's turn: that wait is not counted.
    seconds = (scanned.scanned - scanned.started) + (finished - resumed)
    logger.info(
        "%s: %s detector, %d shots, %d frames decoded in %.2f s; %d scored in %.2f s; "
        "%d candidates in %.2f s total (rejected %s, %d near-duplicates%s)",
        path,
        scan.detector,
        len(scan.shots.shots),
        scan.frames_decoded,
        scanned.scanned - scanned.started,
        len(scored),
        scored_at - resumed,
        len(candidates),
        seconds,
        dict(selection.rejected),
        selection.duplicates,
        ", fallback: every frame looked bad" if selection.fallback else "",
    )
    return Extraction(
        video=info,
        embedder=model.name,
        candidates=candidates,
        frames_analysed=len(scored),
        shots=len(scan.shots.shots),
        frames_decoded=scan.frames_decoded,
        detector=scan.detector,
        seconds=seconds,
    )


def run_into(future: Future[T], work: Callable[[], T]) -> None:
    """Run ``work`` (as a thread's target), handing its result or exception to whoever waits."""
    try:
        future.set_result(work())
    except BaseException as exc:  # re-raised by future.result() where the extraction waits
        future.set_exception(exc)


def _score_samples(
    samples: tuple[Frame, ...],
    scorers: Sequence[FrameScorer],
    embedder: Embedder | Deferred[Embedder],
    progress: ProgressCallback | None,
) -> SampleScores:
    """Score, then embed the samples.

    Every frame is scored before the embedder is asked for, so one loading in the background
    has the longest time to get ready.
    """
    merged: list[dict[str, float]] = []
    for frame in samples:
        scores: dict[str, float] = {}
        for scorer in scorers:
            scores.update(scorer.score(frame.image))
        merged.append(scores)
        if progress is not None and len(merged) % EMBED_BATCH == 0:
            done = SCAN_SHARE + (100 - SCAN_SHARE - 1) * len(merged) // (2 * len(samples))
            progress(done, 100)
    model = embedder if isinstance(embedder, Embedder) else embedder()
    vectors: list[Embedding] = []
    for start in range(0, len(samples), EMBED_BATCH):
        batch = samples[start : start + EMBED_BATCH]
        vectors.extend(model.embed([frame.image for frame in batch]))
        if progress is not None:
            done = SCAN_SHARE + (100 - SCAN_SHARE - 1) * (len(samples) + len(vectors)) // (
                2 * max(1, len(samples))
            )
            progress(done, 100)
    return SampleScores(samples, tuple(merged), tuple(vectors), model)


def _scored_frames(scores: SampleScores, shots: ShotList) -> list[ScoredFrame]:
    """The samples with their scores; shot and transition come from the scan."""
    scored = []
    for frame, merged, vector in zip(scores.samples, scores.scores, scores.embeddings, strict=True):
        frame_scores = {**merged, "transition": shots.transition_at(frame.time_s)}
        scored.append(
            ScoredFrame(
                frame,
                frame_scores,
                quality(frame_scores),
                embedding=vector,
                shot=shots.shot_at(frame.time_s),
            )
        )
    return scored


def _embeddings(frames: Sequence[ScoredFrame]) -> Embedding:
    if not frames:
        return np.zeros((0, 0), np.float32)
    return np.stack([_embedding(frame) for frame in frames])


def _embedding(scored: ScoredFrame) -> Embedding:
    if scored.embedding is None:  # select_frames refuses such frames; keeps mypy informed
        raise AssertionError("a selected frame has no embedding")
    return scored.embedding

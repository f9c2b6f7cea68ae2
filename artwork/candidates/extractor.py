"""The offline extractor: one video file in, K candidate stills with their scores out.

::

    probe ─▶ iter_frames (low-res, ~every sample_interval_s, <= max_sampled_frames)
          ─▶ FrameScorers per frame (QualityScorer) ─▶ embedder, in batches as frames arrive
          ─▶ select_frames (drop bad, de-duplicate, diverse top-K)
          ─▶ read_frames_at (full resolution, winners only) ─▶ Candidate

Only the small analysis frames of the sampled moments are kept in memory (``max_sampled_frames``
of them at ``analysis_width``), never the video. Nothing is written: the caller stores the
:class:`~artwork.domain.Extraction` (images, rows) in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from artwork.candidates.select import SelectionParams, select_frames
from artwork.config import Settings
from artwork.domain import Candidate, Embedding, Extraction, Frame, ScoredFrame
from artwork.scoring.base import Embedder, FrameScorer
from artwork.scoring.quality import QualityScorer, quality
from artwork.video.decode import DecodeStats, iter_frames, plan_sample_times, probe, read_frames_at

logger = logging.getLogger(__name__)

EMBED_BATCH = 32
"""Frames embedded together as the analysis pass runs."""


def extract(
    path: Path,
    settings: Settings,
    embedder: Embedder,
    *,
    progress: Callable[[int, int], None] | None = None,
    scorers: Sequence[FrameScorer] | None = None,
    params: SelectionParams | None = None,
) -> Extraction:
    """Find the best ``settings.variants_per_title`` artwork candidates of a video.

    Args:
        path: the video file.
        settings: ``analysis_width``, ``sample_interval_s``, ``max_sampled_frames`` and
            ``variants_per_title`` are read.
        embedder: content embedder; its name is recorded on the extraction.
        progress: called as ``progress(frames_done, frames_planned)`` after each batch of
            analysed frames, and once more at the end with both equal.
        scorers: per-frame scorers whose scores are merged (a later one wins a clash);
            default a :class:`QualityScorer` at the analysis width. The merged scores must
            include what :func:`~artwork.scoring.quality.quality` needs.
        params: selection parameters; default :class:`SelectionParams`.

    Returns:
        The video's description, the embedder's name, and up to K candidates (full-resolution
        images), best first; fewer when the video has fewer good, distinct moments.

    Raises:
        VideoError: the file cannot be used.
    """
    started = time.perf_counter()
    info = probe(path)
    if scorers is None:
        scorers = (QualityScorer(max_width=settings.analysis_width),)
    if not scorers:
        raise ValueError("scorers must hold at least one FrameScorer, got none")
    planned = len(
        plan_sample_times(
            info.duration_s,
            interval_s=settings.sample_interval_s,
            max_frames=settings.max_sampled_frames,
        )
    )
    stats = DecodeStats()
    scored: list[ScoredFrame] = []
    batch: list[tuple[Frame, dict[str, float]]] = []

    def flush() -> None:
        vectors = embedder.embed([frame.image for frame, _ in batch])
        for (frame, scores), vector in zip(batch, vectors, strict=True):
            scored.append(ScoredFrame(frame, scores, quality(scores), embedding=vector))
        batch.clear()
        if progress is not None:
            progress(min(len(scored), planned), planned)

    for frame in iter_frames(
        path,
        interval_s=settings.sample_interval_s,
        width=settings.analysis_width,
        max_frames=settings.max_sampled_frames,
        stats=stats,
    ):
        scores: dict[str, float] = {}
        for scorer in scorers:
            scores.update(scorer.score(frame.image))
        batch.append((frame, scores))
        if len(batch) >= EMBED_BATCH:
            flush()
    if batch:
        flush()
    analysed = time.perf_counter()

    selection = select_frames(scored, settings.variants_per_title, params)
    stills = read_frames_at(path, [pick.frame.frame.time_s for pick in selection.picks])
    candidates = tuple(
        Candidate(
            time_s=still.time_s,
            frame_index=still.index,
            score=pick.frame.quality,
            scores=dict(pick.frame.scores),
            tags=dict(pick.frame.tags),
            embedding=_embedding(pick.frame),
            image=still.image,
            explanation=pick.explanation,
        )
        for pick, still in zip(selection.picks, stills, strict=True)
    )
    if progress is not None:
        progress(planned, planned)
    logger.info(
        "%s: %d frames analysed in %.2f s, %d candidates in %.2f s total "
        "(rejected %s, %d near-duplicates%s)",
        path,
        len(scored),
        analysed - started,
        len(candidates),
        time.perf_counter() - started,
        dict(selection.rejected),
        selection.duplicates,
        ", fallback: every frame looked bad" if selection.fallback else "",
    )
    return Extraction(
        video=info,
        embedder=embedder.name,
        candidates=candidates,
        frames_analysed=len(scored),
    )


def _embedding(scored: ScoredFrame) -> Embedding:
    if scored.embedding is None:  # select_frames refuses such frames; keeps mypy informed
        raise AssertionError("a selected frame has no embedding")
    return scored.embedding

"""Choosing K diverse, good frames from the scored samples of one video.

:func:`select_frames` works in steps, each accounted for in the explanation of every pick:

1. **Drop bad frames** with :func:`~artwork.scoring.quality.is_bad_frame` (black, white,
   uniform, blurry), counting the reasons.
2. **Drop weak frames**: quality below ``min_relative_quality`` (0.5) times the best usable
   frame's. The tail of a fade or a half-dark transition passes the bad-frame rule but would
   only pad the list.
3. **Greedy diverse top-K by maximal marginal relevance (MMR)**: the best-quality frame first,
   then repeatedly the frame maximising ``lambda * quality - (1 - lambda) * (max cosine
   similarity to the picks so far)`` with ``lambda = 0.7`` (quality leads; similarity breaks
   near-ties, so two nearly-as-good views of one scene are not both picked).
4. After each pick, its **near-duplicates** (embedding cosine above ``duplicate_threshold``,
   0.92) and the frames **closer in time** than ``min_gap_s`` (1 s, shrunk to ``span / (2K)``
   for short videos so K picks still fit) leave the pool. Measured with MobileNetV2 on frames
   sampled every 0.25 s: consecutive samples of a held shot score 0.94 to 0.99 (0.8 to 0.9 where
   camera or subject move), different shots 0.3 to 0.85 (bikes.mp4, the synthetic test video),
   and Big Buck Bunny's single 5-second tracking shot drifts from 0.99 to 0.78 over its length.
   So 0.92 treats a held shot as one candidate but keeps the distinct moments of a moving one.
   Removing duplicates of *picks* (rather than of every better frame beforehand) lets a shot's
   second-best frame stand in when its best one is too close in time to an earlier pick.

Fewer than K good frames give fewer picks: bad frames never pad the list. If *every* frame is
bad (a dark or blurry clip), steps 2 to 4 run over all frames and at most ``fallback_k``
(default 3) are returned, with explanations saying so, so that the title still gets artwork an
editor can judge instead of none.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from artwork.domain import ScoredFrame
from artwork.scoring.quality import BadFrameThresholds, is_bad_frame

SHOWN_SCORES = ("sharpness", "exposure", "contrast", "colourfulness", "uniformity")
"""Scores quoted in explanations, in this order (others follow alphabetically)."""


@dataclass(frozen=True, slots=True)
class SelectionParams:
    """How :func:`select_frames` chooses (see the module docstring for the reasoning).

    Attributes:
        duplicate_threshold: cosine similarity above which a frame duplicates a pick.
        mmr_lambda: weight of quality against dissimilarity in MMR, in [0, 1].
        min_gap_s: least time between two picks (shrunk for short videos).
        min_relative_quality: frames below this fraction of the best usable quality are skipped.
        fallback_k: most picks when every frame is bad.
        thresholds: the bad-frame rule.
    """

    duplicate_threshold: float = 0.92
    mmr_lambda: float = 0.7
    min_gap_s: float = 1.0
    min_relative_quality: float = 0.5
    fallback_k: int = 3
    thresholds: BadFrameThresholds = field(default_factory=BadFrameThresholds)

    def __post_init__(self) -> None:
        if not -1.0 <= self.duplicate_threshold <= 1.0:
            raise ValueError(
                f"duplicate_threshold must be in [-1, 1], got {self.duplicate_threshold}"
            )
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ValueError(f"mmr_lambda must be in [0, 1], got {self.mmr_lambda}")
        if not (math.isfinite(self.min_gap_s) and self.min_gap_s >= 0):
            raise ValueError(f"min_gap_s must be >= 0, got {self.min_gap_s}")
        if not 0.0 <= self.min_relative_quality <= 1.0:
            raise ValueError(
                f"min_relative_quality must be in [0, 1], got {self.min_relative_quality}"
            )
        if self.fallback_k < 1:
            raise ValueError(f"fallback_k must be >= 1, got {self.fallback_k}")


@dataclass(frozen=True, slots=True)
class Pick:
    """One chosen frame and, in words, why it was chosen."""

    frame: ScoredFrame
    explanation: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of :func:`select_frames`.

    Attributes:
        picks: chosen frames, best first.
        rejected: bad frames by reason (``{"black": 3, "blurry": 5}``).
        weak: usable frames skipped for quality far below the best.
        duplicates: frames dropped as near-duplicates of a pick.
        too_close: frames dropped for lying within the minimum gap of a pick.
        fallback: every frame was bad and the picks are the best of them.
    """

    picks: tuple[Pick, ...]
    rejected: Mapping[str, int]
    weak: int
    duplicates: int
    too_close: int
    fallback: bool


def select_frames(
    frames: Sequence[ScoredFrame], k: int, params: SelectionParams | None = None
) -> Selection:
    """Choose up to ``k`` good, mutually different frames (see the module docstring).

    Args:
        frames: scored frames of one video, each with an L2-normalised embedding.
        k: most frames to pick (>= 1).
        params: how to choose; default :class:`SelectionParams`.

    Returns:
        The picks, best first, with why each was chosen and what was dropped.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    params = params or SelectionParams()
    if not frames:
        return Selection((), MappingProxyType({}), 0, 0, 0, fallback=False)
    embeddings = _embeddings(frames)

    reasons = [is_bad_frame(f.scores, params.thresholds) for f in frames]
    rejected = Counter(reason for reason in reasons if reason is not None)
    pool = [i for i, reason in enumerate(reasons) if reason is None]
    fallback = not pool
    if fallback:
        pool, k = list(range(len(frames))), min(k, params.fallback_k)
    pool.sort(key=lambda i: (-frames[i].quality, frames[i].frame.time_s))
    floor = params.min_relative_quality * frames[pool[0]].quality
    remaining = [i for i in pool if frames[i].quality >= floor]
    weak = len(pool) - len(remaining)

    times = [f.frame.time_s for f in frames]
    gap = min(params.min_gap_s, (max(times) - min(times)) / (2 * k))
    lam = params.mmr_lambda
    chosen: list[int] = []
    notes: list[str] = []
    duplicates = too_close = 0
    while remaining and len(chosen) < k:
        if not chosen:  # ``remaining`` is in falling quality
            best, note = remaining[0], f"the best quality of {len(remaining)} usable frames"
        else:
            similarity = embeddings[remaining] @ embeddings[chosen].T  # (remaining, chosen)
            nearest = similarity.argmax(axis=1)
            closest = similarity[np.arange(len(remaining)), nearest]
            qualities = np.array([frames[i].quality for i in remaining])
            mmr = lam * qualities - (1 - lam) * closest
            at = int(np.argmax(mmr))
            best, twin = remaining[at], chosen[int(nearest[at])]
            note = (
                f"MMR {mmr[at]:.2f} = {lam:g} x quality {frames[best].quality:.2f} - "
                f"{1 - lam:.1f} x similarity {closest[at]:.2f} to the pick at "
                f"{frames[twin].frame.time_s:.2f} s: the best trade-off of quality and "
                f"difference among {len(remaining)} frames left"
            )
        chosen.append(best)
        notes.append(note)
        similarity_to_best = embeddings[remaining] @ embeddings[best]
        survivors = []
        for i, similar in zip(remaining, similarity_to_best, strict=True):
            if i == best:
                continue
            if similar > params.duplicate_threshold:
                duplicates += 1
            elif abs(frames[i].frame.time_s - frames[best].frame.time_s) < gap:
                too_close += 1
            else:
                survivors.append(i)
        remaining = survivors

    summary = _summary(len(frames), rejected, weak, duplicates, too_close, fallback)
    picks = tuple(
        Pick(
            frame=frames[i],
            explanation=(
                f"rank {rank} at {frames[i].frame.time_s:.2f} s, quality {frames[i].quality:.2f} "
                f"({_scores(frames[i].scores)}): {note}. {summary}"
            ),
        )
        for rank, (i, note) in enumerate(zip(chosen, notes, strict=True), start=1)
    )
    return Selection(
        picks=picks,
        rejected=MappingProxyType(dict(rejected)),
        weak=weak,
        duplicates=duplicates,
        too_close=too_close,
        fallback=fallback,
    )


def _embeddings(frames: Sequence[ScoredFrame]) -> NDArray[np.float32]:
    rows = []
    for i, scored in enumerate(frames):
        if scored.embedding is None:
            raise ValueError(f"frames[{i}].embedding is None; embed the frames before selecting")
        rows.append(np.asarray(scored.embedding, dtype=np.float32).ravel())
    if len({row.shape for row in rows}) > 1:
        raise ValueError("frames must all have embeddings of the same length")
    return np.stack(rows)


def _scores(scores: Mapping[str, float]) -> str:
    names = [n for n in SHOWN_SCORES if n in scores]
    names += sorted(n for n in scores if n not in SHOWN_SCORES)
    return ", ".join(f"{name} {scores[name]:.2f}" for name in names)


def _summary(
    total: int, rejected: Counter[str], weak: int, duplicates: int, too_close: int, fallback: bool
) -> str:
    reasons = ", ".join(f"{reason} {n}" for reason, n in rejected.most_common())
    if fallback:
        return (
            f"Fallback: all {total} sampled frames looked bad ({reasons}); this is among the "
            "best of them, kept so the title still has artwork: review it"
        )
    bad = f"{sum(rejected.values())} bad ({reasons})" if rejected else "none bad"
    return (
        f"Of {total} sampled frames: {bad}, {weak} weak, {duplicates} near-duplicates of a "
        f"pick, {too_close} too close in time to a pick"
    )

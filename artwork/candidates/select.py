"""Choosing K diverse, good frames from the scored samples of one video.

:func:`select_frames` follows the published thumbnail pipelines (Hecate, Katna, Netflix's AVA):
drop bad frames, keep one good still per shot, de-duplicate, then choose a diverse top K,
preferring frames with a prominent face. Each step is accounted for in the explanation of
every pick.

1. **Drop bad frames** with :func:`~artwork.scoring.quality.is_bad_frame` (black, white,
   uniform, transition, text, blurry), counting the reasons.
2. **Score** every usable frame with :func:`frame_score`, the weighted mean of

   - ``quality`` (weight 0.65): :func:`~artwork.scoring.quality.quality`, as carried by the
     frame;
   - ``face`` (0.25): 0 without a face, else ``0.6 * prominence + 0.2 * face_frontal +
     0.2 * face_thirds`` with ``prominence = min(1, face_area / 0.08)``: a frontal close-up on
     a thirds point scores 1. Netflix found artwork showing the most prominent characters'
     faces works best, so a good face outweighs a little sharpness;
   - ``composition`` (0.10): ``saliency_thirds`` (subject on the thirds).

   Frames scored without the face or composition scorers count 0 there: every frame of a title
   comes from the same scorers, so the order among them is still by quality.
3. **Drop weak frames**: score below ``min_relative_score`` (0.5) times the best usable
   frame's. The tail of a fade passes the bad-frame rule but would only pad the list.
4. **One still per shot, de-duplicated, diverse**: greedy maximal marginal relevance (MMR).
   The candidates of each round are the best remaining still of every shot without a pick
   yet (``ScoredFrame.shot``, set by shot detection), and the pick maximises
   ``lambda * score - (1 - lambda) * (max cosine similarity to the picks so far)`` with
   ``lambda = 0.7`` (the first pick is simply the best). After each pick its
   **near-duplicates** (embedding cosine above ``duplicate_threshold``, 0.92) leave the pool,
   whatever their shot (a scene cut back to the same angle), and so do frames **closer in
   time** than ``min_gap_s`` (1 s, shrunk to ``span / (2K)`` for short videos). Measured with
   MobileNetV2 on frames sampled every 0.25 s: consecutive samples of a held shot score 0.94 to
   0.99, different shots 0.3 to 0.85, and Big Buck Bunny's single 5-second tracking shot drifts
   from 0.99 to 0.78 over its length.
5. **Fill from long shots, only with a different moment**: once every shot with usable
   frames has given its still and fewer than K are picked (a title of few, long shots, such as
   the 5-second single tracking shot of the Big Buck Bunny sample), MMR goes on over the
   remaining frames of any shot whose cosine similarity to *every* pick is below
   ``fill_max_similarity`` (0.92, the duplicate threshold; lower it to ask more of a second
   still). Measured with MobileNetV2: the synthetic test video's slowly panning shots stay at
   0.91 to 0.99 within themselves and gave no second still; Big Buck Bunny's tracking shot
   drifts to 0.8 and fills K=5 (at 0.85 it would give 2, at 0.9 3). Frames without shot
   information (all ``shot`` 0) are one long shot, so this step then makes the diverse top K.
   ``fill_from_picked_shots=False`` keeps strictly one still per shot.

Fewer than K good frames give fewer picks: bad frames never pad the list. If *every* frame is
bad (a dark or blurry clip), steps 2 to 5 run over all frames and at most ``fallback_k``
(default 3) are returned, with explanations saying so, so that the title still gets artwork an
editor can judge instead of none.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from artwork.domain import ScoredFrame
from artwork.scoring.quality import BadFrameThresholds, is_bad_frame

if TYPE_CHECKING:
    from artwork.config import Settings

SHOWN_SCORES = (
    "sharpness",
    "exposure",
    "contrast",
    "colourfulness",
    "uniformity",
    "noise",
    "motion_blur",
    "face_count",
    "face_area",
    "face_frontal",
    "face_thirds",
    "saliency_thirds",
    "symmetry",
    "text_heaviness",
)
"""Scores quoted in explanations, in this order (others follow alphabetically)."""
FACE_AREA_FULL = 0.08
"""``face_area`` at which a face counts as fully prominent (a head-and-shoulders close-up)."""


@dataclass(frozen=True, slots=True)
class SelectionParams:
    """How :func:`select_frames` chooses (see the module docstring for the reasoning).

    Attributes:
        duplicate_threshold: cosine similarity above which a frame duplicates a pick.
        mmr_lambda: weight of score against dissimilarity in MMR, in [0, 1].
        min_gap_s: least time between two picks (shrunk for short videos).
        min_relative_score: frames below this fraction of the best usable score are skipped.
        fallback_k: most picks when every frame is bad.
        quality_weight: weight of quality in :func:`frame_score`.
        face_weight: weight of the face term.
        composition_weight: weight of the composition term.
        fill_from_picked_shots: once every shot has given a still, pick more from the same
            shots until K (off: at most one still per shot).
        fill_max_similarity: a further still of a picked shot must have a cosine similarity
            below this to every pick.
        thresholds: the bad-frame rule.
    """

    duplicate_threshold: float = 0.92
    mmr_lambda: float = 0.7
    min_gap_s: float = 1.0
    min_relative_score: float = 0.5
    fallback_k: int = 3
    quality_weight: float = 0.65
    face_weight: float = 0.25
    composition_weight: float = 0.10
    fill_from_picked_shots: bool = True
    fill_max_similarity: float = 0.92
    thresholds: BadFrameThresholds = field(default_factory=BadFrameThresholds)

    def __post_init__(self) -> None:
        if not -1.0 <= self.fill_max_similarity <= 1.0:
            raise ValueError(
                f"fill_max_similarity must be in [-1, 1], got {self.fill_max_similarity}"
            )
        if not -1.0 <= self.duplicate_threshold <= 1.0:
            raise ValueError(
                f"duplicate_threshold must be in [-1, 1], got {self.duplicate_threshold}"
            )
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ValueError(f"mmr_lambda must be in [0, 1], got {self.mmr_lambda}")
        if not (math.isfinite(self.min_gap_s) and self.min_gap_s >= 0):
            raise ValueError(f"min_gap_s must be >= 0, got {self.min_gap_s}")
        if not 0.0 <= self.min_relative_score <= 1.0:
            raise ValueError(f"min_relative_score must be in [0, 1], got {self.min_relative_score}")
        if self.fallback_k < 1:
            raise ValueError(f"fallback_k must be >= 1, got {self.fallback_k}")
        weights = ("quality_weight", "face_weight", "composition_weight")
        for name in weights:
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be >= 0, got {value}")
        if sum(getattr(self, name) for name in weights) <= 0:
            raise ValueError("quality_weight, face_weight and composition_weight must not all be 0")

    @classmethod
    def from_settings(cls, settings: Settings) -> SelectionParams:
        """Default parameters with the bad-frame thresholds of the settings.

        Args:
            settings: the ``# --- scoring ---`` thresholds are read.
        """
        return cls(thresholds=BadFrameThresholds.from_settings(settings))


@dataclass(frozen=True, slots=True)
class Pick:
    """One chosen frame, its score (:func:`frame_score`) and, in words, why it was chosen."""

    frame: ScoredFrame
    explanation: str
    score: float


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of :func:`select_frames`.

    Attributes:
        picks: chosen frames, in the order picked (the first is the best).
        rejected: bad frames by reason (``{"black": 3, "blurry": 5}``).
        weak: usable frames skipped for a score far below the best.
        duplicates: frames dropped as near-duplicates of a pick.
        too_close: frames dropped for lying within the minimum gap of a pick.
        fallback: every frame was bad and the picks are the best of them.
        same_shot: usable frames left because their shot already has a pick.
    """

    picks: tuple[Pick, ...]
    rejected: Mapping[str, int]
    weak: int
    duplicates: int
    too_close: int
    fallback: bool
    same_shot: int = 0


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """The terms of :func:`frame_score` for one frame."""

    quality: float
    face: float
    composition: float
    total: float


def frame_score(frame: ScoredFrame, params: SelectionParams | None = None) -> ScoreParts:
    """The combined score selection ranks by (module docstring, step 2), in [0, 1].

    Args:
        frame: a scored frame (``quality`` and its ``scores``).
        params: the weights; default :class:`SelectionParams`.
    """
    params = params or SelectionParams()
    scores = frame.scores
    face = 0.0
    if scores.get("face_count", 0.0) >= 1:
        prominence = min(1.0, scores.get("face_area", 0.0) / FACE_AREA_FULL)
        face = (
            0.6 * prominence
            + 0.2 * scores.get("face_frontal", 0.0)
            + 0.2 * scores.get("face_thirds", 0.0)
        )
    composition = scores.get("saliency_thirds", 0.0)
    weights = (params.quality_weight, params.face_weight, params.composition_weight)
    terms = (frame.quality, face, composition)
    total = sum(w * t for w, t in zip(weights, terms, strict=True)) / sum(weights)
    return ScoreParts(frame.quality, face, composition, float(min(1.0, max(0.0, total))))


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
    parts = [frame_score(f, params) for f in frames]
    score = np.array([p.total for p in parts])

    reasons = [is_bad_frame(f.scores, params.thresholds) for f in frames]
    rejected = Counter(reason for reason in reasons if reason is not None)
    pool = [i for i, reason in enumerate(reasons) if reason is None]
    fallback = not pool
    if fallback:
        pool, k = list(range(len(frames))), min(k, params.fallback_k)
    pool.sort(key=lambda i: (-score[i], frames[i].frame.time_s))
    floor = params.min_relative_score * score[pool[0]]
    remaining = [i for i in pool if score[i] >= floor]
    weak = len(pool) - len(remaining)
    shots_usable = len({frames[i].shot for i in remaining})

    times = [f.frame.time_s for f in frames]
    gap = min(params.min_gap_s, (max(times) - min(times)) / (2 * k))
    lam = params.mmr_lambda
    fill_below = params.fill_max_similarity
    chosen: list[int] = []
    notes: list[str] = []
    duplicates = too_close = 0
    while remaining and len(chosen) < k:
        picked_shots = {frames[i].shot for i in chosen}
        fresh = [i for i in remaining if frames[i].shot not in picked_shots]
        if fresh:
            candidates = _best_per_shot(fresh, frames)  # ``remaining`` is in falling score
            why = f"the best still of shot {{shot}} ({len(candidates)} shots without a pick)"
        elif params.fill_from_picked_shots:
            similar = (embeddings[remaining] @ embeddings[chosen].T).max(axis=1)
            candidates = [i for i, s in zip(remaining, similar, strict=True) if s < fill_below]
            why = (
                "a further still of shot {shot}, a different moment (every shot already has a "
                f"pick; similarity to each pick under {fill_below:g})"
            )
        else:
            candidates = []
        if not candidates:
            break
        if not chosen:
            best = candidates[0]
            note = (
                f"{why.format(shot=frames[best].shot)}, and the best score of "
                f"{len(remaining)} usable frames in {shots_usable} shots"
            )
        else:
            similarity = embeddings[candidates] @ embeddings[chosen].T  # (candidates, chosen)
            nearest = similarity.argmax(axis=1)
            closest = similarity[np.arange(len(candidates)), nearest]
            mmr = lam * score[candidates] - (1 - lam) * closest
            at = int(np.argmax(mmr))
            best, twin = candidates[at], chosen[int(nearest[at])]
            note = (
                f"{why.format(shot=frames[best].shot)}; MMR {mmr[at]:.2f} = {lam:g} x score "
                f"{score[best]:.2f} - {1 - lam:.1f} x similarity {closest[at]:.2f} to the pick "
                f"at {frames[twin].frame.time_s:.2f} s, the best trade-off of score and "
                f"difference among {len(candidates)} candidates"
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
    picked_shots = {frames[i].shot for i in chosen}
    same_shot = sum(frames[i].shot in picked_shots for i in remaining)

    summary = _summary(len(frames), rejected, weak, duplicates, too_close, same_shot, fallback)
    picks = tuple(
        Pick(
            frame=frames[i],
            explanation=_explain(rank, frames[i], parts[i], params, note, summary),
            score=parts[i].total,
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
        same_shot=same_shot,
    )


def describe_tags(tags: Mapping[str, float]) -> str:
    """``"close_up_face 0.92, person 0.90"``: tags by falling confidence, or ``"none"``.

    Args:
        tags: tag to confidence.
    """
    ordered = sorted(tags.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} {value:.2f}" for name, value in ordered) or "none"


def _best_per_shot(indices: Sequence[int], frames: Sequence[ScoredFrame]) -> list[int]:
    """The first index of each shot, keeping the order (callers pass falling score)."""
    seen: set[int] = set()
    best = []
    for i in indices:
        if frames[i].shot not in seen:
            seen.add(frames[i].shot)
            best.append(i)
    return best


def _explain(
    rank: int,
    frame: ScoredFrame,
    parts: ScoreParts,
    params: SelectionParams,
    note: str,
    summary: str,
) -> str:
    scores = frame.scores
    if scores.get("face_count", 0.0) >= 1:
        count = int(scores["face_count"])
        kind = "frontal" if scores.get("face_frontal", 0.0) >= 1.0 else "profile"
        faces = (
            f"{count} face{'s' if count > 1 else ''}, the largest {kind}, "
            f"{100 * scores.get('face_area', 0.0):.0f}% of the frame, "
            f"thirds {scores.get('face_thirds', 0.0):.2f}"
        )
    else:
        faces = "no face"
    total_weight = params.quality_weight + params.face_weight + params.composition_weight
    w_q, w_f, w_c = (
        w / total_weight
        for w in (params.quality_weight, params.face_weight, params.composition_weight)
    )
    tags = f"; tags: {describe_tags(frame.tags)}" if frame.tags else ""
    return (
        f"rank {rank} at {frame.frame.time_s:.2f} s (shot {frame.shot}), score "
        f"{parts.total:.2f} = {w_q:.2f} x quality {parts.quality:.2f} + {w_f:.2f} x face "
        f"{parts.face:.2f} ({faces}) + {w_c:.2f} x composition {parts.composition:.2f} "
        f"({_scores(scores)}){tags}: {note}. {summary}"
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
    return ", ".join(
        f"{name} {int(scores[name])}" if name == "face_count" else f"{name} {scores[name]:.2f}"
        for name in names
    )


def _summary(
    total: int,
    rejected: Counter[str],
    weak: int,
    duplicates: int,
    too_close: int,
    same_shot: int,
    fallback: bool,
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
        f"pick, {too_close} too close in time to a pick, {same_shot} left in a shot already "
        "picked"
    )

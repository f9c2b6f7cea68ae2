"""Typed values passed between stages. Frozen: a stage never edits what another produced.

Images are RGB ``uint8`` arrays of shape (height, width, 3); embeddings are L2-normalised
``float32`` vectors. Classes holding arrays compare by identity (``eq=False``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
Embedding = NDArray[np.float32]


# --- extraction --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What probing a video file found."""

    path: Path
    duration_s: float
    fps: float
    width: int
    height: int
    codec: str
    rotation: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One decoded frame: its position in the video and its pixels."""

    index: int
    time_s: float
    image: Image


@dataclass(frozen=True, slots=True, eq=False)
class ScoredFrame:
    """A frame with its named quality scores (each in [0, 1], higher is better unless the
    scorer documents otherwise), content embedding and tags."""

    frame: Frame
    scores: Mapping[str, float]
    quality: float
    embedding: Embedding | None = None
    tags: Mapping[str, float] = field(default_factory=dict)
    shot: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """A frame chosen to become a variant, with the full-resolution still and why it won."""

    time_s: float
    frame_index: int
    score: float
    scores: Mapping[str, float]
    tags: Mapping[str, float]
    embedding: Embedding
    image: Image
    explanation: str
    shot: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Extraction:
    """Everything the extractor produced for one video.

    ``frames_analysed`` small frames were scored out of ``frames_decoded`` decoded by the shot
    detector ``detector``, which found ``shots`` shots; ``seconds`` is the wall time.
    """

    video: VideoInfo
    embedder: str
    candidates: tuple[Candidate, ...]
    frames_analysed: int
    shots: int = 0
    frames_decoded: int = 0
    detector: str = ""
    seconds: float = 0.0


# --- catalogue ---------------------------------------------------------------------------------
class VariantStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Title:
    title_id: str
    name: str
    genres: tuple[str, ...] = ()
    duration_s: float | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VariantCrop:
    """One artwork format cut from a variant's frame (its lineage is the variant's id).

    Attributes:
        format: the format's name, e.g. ``"16:9"`` or ``"2:3"``.
        image_path: the crop's image, relative to the media folder.
        box: ``(x, y, w, h)`` of the crop in the variant's full frame.
        width: the crop image's width in pixels.
        height: its height.
    """

    format: str
    image_path: str
    box: tuple[int, int, int, int]
    width: int
    height: int


@dataclass(frozen=True, slots=True, eq=False)
class Variant:
    """One artwork image of a title. ``image_path`` is relative to the media folder; ``crops``
    holds the same frame cut for each artwork format (keyed by format name)."""

    variant_id: str
    title_id: str
    rank: int
    frame_time_s: float
    score: float
    scores: Mapping[str, float]
    tags: Mapping[str, float]
    embedder: str
    image_path: str
    width: int
    height: int
    status: VariantStatus
    explanation: str = ""
    embedding: Embedding | None = None
    crops: Mapping[str, VariantCrop] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Interaction:
    """A member played a title: how long, and (if known) how long the title runs."""

    user_id: str
    title_id: str
    timestamp: datetime
    seconds: float
    duration_s: float | None = None

    @property
    def completion(self) -> float | None:
        if not self.duration_s:
            return None
        return min(1.0, self.seconds / self.duration_s)


# --- ranking -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScoredTitle:
    title_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Row:
    """A row of the homepage: which ranker made it, its heading, and its titles in order."""

    row_id: str
    heading: str
    source: str
    items: tuple[ScoredTitle, ...]
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Homepage:
    user_id: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class RowImpression:
    """One row of one served homepage, as logged: what was shown where, and the page-model
    features it had when it was placed (the training data of the learned page model)."""

    impression_id: str
    created_at: datetime
    user_id: str
    selector: str
    model_version: str
    position: int
    row_id: str
    source: str
    score: float
    title_ids: tuple[str, ...]
    features: Mapping[str, float]


# --- bandit ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MemberProfile:
    """What a member's history says about their taste, computed by the caller from the
    catalogue's interactions: affinities (weights, larger is stronger) per genre and per tag."""

    genres: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """What is known about the request when artwork is chosen."""

    user_id: str
    device: str
    hour: int
    weekday: int
    country: str = "unknown"
    profile: MemberProfile | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A variant as the bandit sees it: its id and its features by namespace."""

    variant_id: str
    features: Mapping[str, Mapping[str, float]]


class DecisionConfig(dict[str, str | float]):
    """The configuration logged with one decision: a serving configuration many decisions
    share (``base``, not copied) plus this decision's own fields, in one mapping.

    The log stores ``base`` once and only the own fields per decision; like ``base`` it is
    read-only once made.
    """

    __slots__ = ("base",)

    def __init__(self, base: dict[str, str | float], own: dict[str, str | float]) -> None:
        super().__init__(base)
        self.update(own)
        self.base = base


@dataclass(frozen=True, slots=True)
class Decision:
    """One logged artwork choice: everything needed to learn from it and evaluate it later."""

    event_id: str
    created_at: datetime
    user_id: str
    title_id: str
    context: Mapping[str, Mapping[str, float]]
    action_ids: tuple[str, ...]
    action_features: tuple[Mapping[str, Mapping[str, float]], ...]
    probabilities: tuple[float, ...]
    chosen_index: int
    model_version: int
    policy: Mapping[str, str | float]

    @property
    def chosen_variant_id(self) -> str:
        return self.action_ids[self.chosen_index]

    @property
    def chosen_probability(self) -> float:
        return self.probabilities[self.chosen_index]


@dataclass(frozen=True, slots=True)
class Reward:
    event_id: str
    value: float
    received_at: datetime

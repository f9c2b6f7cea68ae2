"""The title index: the title vocabulary every fitted array is aligned to, what rows need of
each title, and the scores rankers give over it (``Scores``, with ``top_k`` to pick the best).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Interaction, Title
from artwork.ranking.content import content_matrix
from artwork.ranking.interactions import Member, to_epoch

Scores = NDArray[np.float64]
"""One score per title of a ``TitleIndex``; ``-inf`` marks a title the ranker never returns."""

_SORT_BELOW = 512


def top_k(
    scores: Scores, k: int, exclude: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Indices and scores of the ``k`` best finite scores, best first; ties by index.

    Args:
        scores: one score per title.
        k: how many to return (fewer if fewer are finite and not excluded).
        exclude: titles never to return.
    """
    if exclude is not None:
        scores = np.where(exclude, -np.inf, scores)
    if k <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0)
    if len(scores) <= _SORT_BELOW:
        # A stable sort of a short array beats partitioning it (and keeps ties by index).
        ranked = np.argsort(-scores, kind="stable")[:k]
        ranked = ranked[np.isfinite(scores[ranked])]
        return ranked.astype(np.int32), scores[ranked].astype(np.float64)
    if k < len(scores):
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.arange(len(scores))
    candidates = candidates[np.isfinite(scores[candidates])]
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    chosen = candidates[order]
    return chosen.astype(np.int32), scores[chosen].astype(np.float64)


@dataclass(frozen=True, eq=False)
class TitleIndex:
    """The title vocabulary fitted arrays are aligned to, with what rows need of each title.

    Attributes:
        title_ids: titles in index order.
        names: display names.
        title_genres: each title's genres.
        duration: runtimes in seconds, NaN where unknown.
        content: L2-normalised content vectors, one row per title (zeros where unknown);
            zero columns when no title has one.
    """

    title_ids: tuple[str, ...]
    names: tuple[str, ...]
    title_genres: tuple[tuple[str, ...], ...]
    duration: NDArray[np.float64]
    content: NDArray[np.float32]

    @classmethod
    def from_titles(
        cls, titles: Sequence[Title], content: Mapping[str, NDArray[np.floating]] | None = None
    ) -> TitleIndex:
        """An index of ``titles`` in the given order, with their content vectors if any."""
        ids = tuple(t.title_id for t in titles)
        return cls(
            title_ids=ids,
            names=tuple(t.name for t in titles),
            title_genres=tuple(tuple(t.genres) for t in titles),
            duration=np.array(
                [np.nan if t.duration_s is None else t.duration_s for t in titles], np.float64
            ),
            content=content_matrix(ids, content or {}),
        )

    def __len__(self) -> int:
        return len(self.title_ids)

    @cached_property
    def position(self) -> dict[str, int]:
        """Title id to index."""
        return {t: i for i, t in enumerate(self.title_ids)}

    @cached_property
    def genres(self) -> tuple[str, ...]:
        """Every genre, sorted."""
        return tuple(sorted({g for gs in self.title_genres for g in gs}))

    @cached_property
    def genre_matrix(self) -> NDArray[np.bool_]:
        """Titles x genres membership."""
        column = {g: j for j, g in enumerate(self.genres)}
        matrix = np.zeros((len(self), len(self.genres)), dtype=bool)
        for i, gs in enumerate(self.title_genres):
            for g in gs:
                matrix[i, column[g]] = True
        return matrix

    @cached_property
    def has_content(self) -> NDArray[np.bool_]:
        """Titles with a content vector."""
        return np.asarray(self.content.any(axis=1), dtype=bool)

    @cached_property
    def genre_table(self) -> NDArray[np.bool_]:
        """``genre_matrix`` with one more, genre-less row at index ``len(self)`` (padding)."""
        return np.vstack([self.genre_matrix, np.zeros((1, len(self.genres)), dtype=bool)])

    @cached_property
    def genre_titles(self) -> tuple[NDArray[np.int32], ...]:
        """The titles of each genre, in index order."""
        return tuple(
            np.flatnonzero(self.genre_matrix[:, j]).astype(np.int32)
            for j in range(len(self.genres))
        )

    @cached_property
    def genre_sizes(self) -> NDArray[np.float64]:
        """Titles per genre."""
        return np.array([len(t) for t in self.genre_titles], dtype=np.float64)

    def title(self, i: int) -> Title:
        """The ``Title`` at index ``i``."""
        d = self.duration[i]
        return Title(
            self.title_ids[i],
            self.names[i],
            self.title_genres[i],
            None if np.isnan(d) else float(d),
        )

    def member(self, user_id: str, plays: Sequence[Interaction]) -> Member:
        """A member's history over this index from their plays (other titles are ignored)."""
        known = [p for p in plays if p.title_id in self.position]
        if not known:
            return Member.cold(user_id)
        return Member.from_plays(
            user_id,
            np.array([self.position[p.title_id] for p in known], dtype=np.int32),
            np.array([to_epoch(p.timestamp) for p in known]),
            np.array([p.seconds for p in known]),
            self.duration,
            np.array([np.nan if p.duration_s is None else p.duration_s for p in known]),
        )

    def to_json(self) -> str:
        """The index without its content vectors (saved alongside as an array)."""
        return json.dumps(
            {
                "title_ids": list(self.title_ids),
                "names": list(self.names),
                "genres": [list(g) for g in self.title_genres],
                "duration": [None if np.isnan(d) else float(d) for d in self.duration],
            }
        )

    @classmethod
    def from_json(cls, text: str, content: NDArray[np.float32]) -> TitleIndex:
        """Inverse of ``to_json``."""
        raw: dict[str, Any] = json.loads(text)
        return cls(
            title_ids=tuple(raw["title_ids"]),
            names=tuple(raw["names"]),
            title_genres=tuple(tuple(g) for g in raw["genres"]),
            duration=np.array([np.nan if d is None else d for d in raw["duration"]], np.float64),
            content=np.asarray(content, dtype=np.float32),
        )

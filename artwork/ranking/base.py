"""Interfaces of the ranking core: rankers score titles, row sources turn them into candidate
rows, a row selector picks and orders rows into a page.

``RankingData`` is the immutable snapshot rankers are fitted on; ``TitleIndex`` is the title
vocabulary every fitted array is aligned to; a ``Member`` is one member's history over that
index. Rankers keep no per-member state (the personalised ones are item-item models), so a
fitted ranker serves a member from their current history, including a member it never saw.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Interaction, Row, ScoredTitle, Title
from artwork.ranking.content import content_matrix
from artwork.ranking.interactions import InteractionLog, Member, to_epoch

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


@dataclass(frozen=True)
class RankingData:
    """Titles, interactions and content vectors as of ``now``: what rankers are fitted on.

    Attributes:
        titles: the catalogue by title id; its order is the title index.
        interactions: plays, as objects or as columns.
        now: the moment the snapshot describes (timezone-aware); trending decays from it.
        content: content vectors by title id (see ``artwork.ranking.content``).
    """

    titles: Mapping[str, Title]
    interactions: Sequence[Interaction] | InteractionLog
    now: datetime
    content: Mapping[str, NDArray[np.floating]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")

    @cached_property
    def index(self) -> TitleIndex:
        """The title index, in the order of ``titles``."""
        return TitleIndex.from_titles(list(self.titles.values()), self.content)

    @cached_property
    def log(self) -> InteractionLog:
        """The interactions as columns over ``index`` (plays of unknown titles dropped)."""
        ids = self.index.title_ids
        if isinstance(self.interactions, InteractionLog):
            return self.interactions.reindex_titles(ids)
        return InteractionLog.from_interactions(self.interactions, ids)

    @cached_property
    def by_user(self) -> Mapping[str, Sequence[Interaction]]:
        """Each member's interactions, oldest first."""
        grouped: dict[str, list[Interaction]] = defaultdict(list)
        for item in self.interactions:
            grouped[item.user_id].append(item)
        return grouped

    def member(self, user_id: str) -> Member:
        """A member's history in this snapshot (empty for an unknown member)."""
        log = self.log
        u = log.user_index.get(user_id)
        if u is None:
            return Member.cold(user_id)
        rows = log.plays_of(u)
        return Member.from_plays(
            user_id,
            log.title[rows],
            log.timestamp[rows],
            log.seconds[rows],
            self.index.duration,
            log.duration[rows],
        )


class Ranker(ABC):
    """Scores every title for a member. Fitted once per data snapshot, then queried per request.

    Subclasses implement ``_fit`` and ``scores``; those with learned arrays also implement
    ``get_state``/``load_state`` so a trained ranker can be saved and served elsewhere.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self.index: TitleIndex | None = None
        self._data: RankingData | None = None

    def fit(self, data: RankingData) -> None:
        """Learn whatever the ranker needs from ``data``."""
        self._fit(data)
        self.index = data.index
        self._data = data

    @abstractmethod
    def _fit(self, data: RankingData) -> None:
        """Learn from ``data`` (``data.index`` is the title index)."""

    @abstractmethod
    def scores(self, member: Member) -> Scores:
        """One score per title of the fitted index for ``member``; higher is better."""

    def top(
        self, member: Member, k: int, exclude: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        """The member's ``k`` best title indices and their scores, best first."""
        return top_k(self.scores(member), k, exclude)

    def rank(
        self, member: Member | str, k: int, *, exclude_seen: bool = False
    ) -> list[ScoredTitle]:
        """The member's top ``k`` titles, best first (fewer if fewer qualify).

        Args:
            member: a ``Member``, or a member id looked up in the data the ranker was fitted on.
            k: how many titles at most.
            exclude_seen: leave out titles the member has watched.

        Raises:
            RuntimeError: the ranker is not fitted, or was loaded without data and given an id.
        """
        index = self.require_index()
        if isinstance(member, str):
            if self._data is None:
                raise RuntimeError(f"{type(self).__name__}.rank needs a Member when loaded")
            member = self._data.member(member)
        exclude = member.seen_mask(len(index)) if exclude_seen else None
        chosen, values = self.top(member, k, exclude)
        return [
            ScoredTitle(index.title_ids[i], float(v)) for i, v in zip(chosen, values, strict=True)
        ]

    def require_index(self) -> TitleIndex:
        """The fitted title index.

        Raises:
            RuntimeError: neither ``fit`` nor ``load_state`` was called.
        """
        if self.index is None:
            raise RuntimeError(f"{type(self).__name__} used before fit")
        return self.index

    def get_state(self) -> dict[str, NDArray[Any]]:
        """The fitted arrays, to save (stateless rankers return none)."""
        return {}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        """Restore what ``get_state`` returned, over ``index``."""
        self.index = index
        self._data = None


class PageRequest:
    """What row sources share while one member's page is built: the member, the fitted rankers,
    and each ranker's scores for the member, computed at most once per page."""

    def __init__(self, member: Member, index: TitleIndex, rankers: Mapping[str, Ranker]) -> None:
        self.member = member
        self.index = index
        self.rankers = rankers
        self.row_titles: dict[str, NDArray[np.int32]] = {}
        self._scores: dict[str, Scores] = {}

    @cached_property
    def seen(self) -> NDArray[np.bool_]:
        """Titles the member has watched."""
        return self.member.seen_mask(len(self.index))

    @cached_property
    def finished(self) -> NDArray[np.bool_]:
        """Titles the member has finished."""
        return self.member.finished_mask(len(self.index))

    @cached_property
    def genre_affinity(self) -> NDArray[np.float64]:
        """The member's share of watched titles per genre (zeros for a new member)."""
        counts = self.index.genre_matrix[self.member.titles].sum(axis=0).astype(np.float64)
        total = counts.sum()
        return counts / total if total else counts

    def scores(self, name: str) -> Scores | None:
        """The member's scores from the ranker called ``name``; None if there is none."""
        ranker = self.rankers.get(name)
        if ranker is None:
            return None
        if name not in self._scores:
            self._scores[name] = ranker.scores(self.member)
        return self._scores[name]

    def row(
        self,
        row_id: str,
        heading: str,
        source: str,
        titles: NDArray[np.int32],
        values: NDArray[np.float64],
        score: float,
    ) -> Row:
        """A candidate row of the given title indices (recorded for the selector)."""
        ids = self.index.title_ids
        self.row_titles[row_id] = titles
        # tolist() and map() keep this at well under a microsecond per title.
        items = tuple(map(ScoredTitle, [ids[i] for i in titles.tolist()], values.tolist()))
        return Row(row_id, heading, source, items, score)


class RowSource(ABC):
    """Makes zero or more candidate rows for a member (a genre source makes one per genre)."""

    name: ClassVar[str]

    @abstractmethod
    def rows(self, request: PageRequest, k: int) -> list[Row]:
        """Candidate rows of up to ``k`` titles each, each with a relevance ``score``."""


@dataclass(frozen=True, eq=False)
class PageContext:
    """What a row selector may know beyond the rows: titles' genres, the member's genre
    affinity, the size of the first screen, and the rows' title indices.

    Attributes:
        index: the title index the rows' titles belong to.
        genre_affinity: the member's share of watched titles per genre of ``index.genres``.
        first_screen_rows: rows visible without scrolling.
        first_screen_titles: titles of a row visible without scrolling sideways.
        row_titles: title indices of candidate rows by row id (looked up when absent).
    """

    index: TitleIndex
    genre_affinity: NDArray[np.float64]
    first_screen_rows: int = 4
    first_screen_titles: int = 6
    row_titles: Mapping[str, NDArray[np.int32]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.first_screen_rows < 1:
            raise ValueError(f"first_screen_rows must be >= 1, got {self.first_screen_rows}")
        if self.first_screen_titles < 1:
            raise ValueError(f"first_screen_titles must be >= 1, got {self.first_screen_titles}")

    @classmethod
    def for_rows(
        cls, rows: Sequence[Row], first_screen_rows: int = 4, first_screen_titles: int = 6
    ) -> PageContext:
        """A context knowing only the rows themselves (no genres, no member)."""
        ids = list(dict.fromkeys(item.title_id for row in rows for item in row.items))
        index = TitleIndex.from_titles([Title(t, t) for t in ids])
        return cls(index, np.zeros(0), first_screen_rows, first_screen_titles)

    def titles_of(self, row: Row) -> NDArray[np.int32]:
        """The row's titles as indices; titles outside the index are left out."""
        known = self.row_titles.get(row.row_id)
        if known is not None and len(known) == len(row.items):
            return known
        position = self.index.position
        return np.array(
            [position[i.title_id] for i in row.items if i.title_id in position], dtype=np.int32
        )


class RowSelector(ABC):
    """Chooses which candidate rows make the page, and in which order."""

    name: ClassVar[str]

    @abstractmethod
    def select(
        self, candidates: Sequence[Row], max_rows: int, context: PageContext | None = None
    ) -> list[Row]:
        """At most ``max_rows`` rows in page order.

        Args:
            candidates: rows from every source, in the sources' order.
            max_rows: page length.
            context: genres, first-screen size and member affinity; selectors that need
                them build a minimal one from the rows when absent.

        Raises:
            ValueError: ``max_rows`` < 1.
        """

"""Rankers: top-N popularity, trending now, continue watching, genres, the personalised EASE
ranker, title-to-title similarity (because you watched), content similarity, and the registry
of every ranker by name, with "Top picks" (``artwork.ranking.top_picks``).

Every ranker returns one score per title of the fitted ``TitleIndex`` (``-inf``: never), so
row sources and the offline evaluation treat them alike. The personalised rankers are
item-item models: their fitted arrays describe titles only, and a member is scored from their
current history at request time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.ranking.base import Ranker
from artwork.ranking.content import profile
from artwork.ranking.data import RankingData
from artwork.ranking.ease import ease_weights
from artwork.ranking.index import Scores, TitleIndex
from artwork.ranking.interactions import FINISHED_AT, MIN_WATCH_S, Member, to_epoch
from artwork.ranking.top_picks import TopPicksRanker

# Kept importable from here, where they used to live.
__all__ = [
    "FINISHED_AT",
    "MIN_WATCH_S",
    "RANKER_CLASSES",
    "ContentRanker",
    "ContinueWatchingRanker",
    "EaseRanker",
    "GenreRanker",
    "ItemSimilarityRanker",
    "PopularityRanker",
    "TopPicksRanker",
    "TrendingRanker",
]

#: Weight of the popularity prior that orders titles a personal ranker has no opinion on.
_PRIOR = 1e-6


def _viewers(data: RankingData) -> NDArray[np.float64]:
    """Distinct members who watched each title."""
    _, titles = data.log.pairs()
    return np.bincount(titles, minlength=len(data.index)).astype(np.float64)


def _prior(viewers: NDArray[np.float64]) -> NDArray[np.float64]:
    """A tiny popularity score in [0, _PRIOR] that breaks ties among unscored titles."""
    top = viewers.max(initial=0.0)
    return _PRIOR * viewers / top if top > 0 else np.zeros_like(viewers)


def _order(scores: NDArray[np.float64]) -> NDArray[np.int32]:
    """Indices of finite scores, best first, ties by index."""
    finite = np.flatnonzero(np.isfinite(scores))
    return finite[np.lexsort((finite, -scores[finite]))].astype(np.int32)


class _GlobalRanker(Ranker):
    """A ranker whose scores are the same for every member: ranked once at fit time."""

    def __init__(self) -> None:
        super().__init__()
        self._scores: Scores = np.zeros(0)
        self._ranked: NDArray[np.int32] = np.zeros(0, dtype=np.int32)

    def _set(self, scores: Scores) -> None:
        scores.flags.writeable = False  # handed out to every request
        self._scores = scores
        self._ranked = _order(scores)

    def scores(self, member: Member) -> Scores:
        self.require_index()
        return self._scores

    def top(
        self, member: Member, k: int, exclude: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        self.require_index()
        ranked = self._ranked if exclude is None else self._ranked[~exclude[self._ranked]]
        chosen = ranked[: max(0, k)]
        return chosen, self._scores[chosen]

    def get_state(self) -> dict[str, NDArray[Any]]:
        return {"scores": self._scores}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        super().load_state(index, state)
        self._set(np.asarray(state["scores"], dtype=np.float64))


class PopularityRanker(_GlobalRanker):
    """Top-N: titles by how many distinct members watched them, the same for everyone.

    Titles nobody watched still rank (after watched ones), so a new catalogue has a page.
    """

    name = "popularity"

    def _fit(self, data: RankingData) -> None:
        self._set(_viewers(data))


class TrendingRanker(_GlobalRanker):
    """Trending now: distinct viewers, each weighted by how recently they watched.

    A member's most recent play of a title weighs ``0.5 ** (age / half_life)``; plays after
    the snapshot's ``now`` are ignored. Titles without a play score ``-inf`` (no row padding).

    Args:
        half_life_h: hours for a play's weight to halve.

    Raises:
        ValueError: ``half_life_h`` <= 0.
    """

    name = "trending"

    def __init__(self, half_life_h: float = 72.0) -> None:
        if not half_life_h > 0:
            raise ValueError(f"half_life_h must be > 0, got {half_life_h}")
        super().__init__()
        self.half_life_h = half_life_h

    def _fit(self, data: RankingData) -> None:
        log, n_titles = data.log, len(data.index)
        age_h = (to_epoch(data.now) - log.timestamp) / 3600.0
        valid = np.flatnonzero((log.seconds >= MIN_WATCH_S) & (age_h >= 0))
        keys = log.user[valid].astype(np.int64) * max(1, n_titles) + log.title[valid]
        # The log is oldest first, so the last occurrence of a pair is its most recent play.
        _, first_from_end = np.unique(keys[::-1], return_index=True)
        latest = valid[len(valid) - 1 - first_from_end]
        weights = np.power(0.5, age_h[latest] / self.half_life_h)
        trend = np.bincount(log.title[latest], weights=weights, minlength=n_titles)
        self._set(np.where(trend > 0, trend, -np.inf))


class ContinueWatchingRanker(Ranker):
    """Titles the member started and did not finish, most recently watched first (the score
    is the time of the last play, seconds since the epoch)."""

    name = "continue_watching"

    def _fit(self, data: RankingData) -> None:
        pass

    def scores(self, member: Member) -> Scores:
        index = self.require_index()
        result = np.full(len(index), -np.inf)
        open_ = member.fraction < FINISHED_AT
        result[member.titles[open_]] = member.last_played[open_]
        return result

    def top(
        self, member: Member, k: int, exclude: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        self.require_index()
        keep = member.fraction < FINISHED_AT
        if exclude is not None:
            keep &= ~exclude[member.titles]
        # Member.titles is ordered by last play, oldest first.
        titles, when = member.titles[keep][::-1], member.last_played[keep][::-1]
        return titles[: max(0, k)].astype(np.int32), when[: max(0, k)].astype(np.float64)


class GenreRanker(Ranker):
    """Popularity within one genre; without a genre, popularity weighted by the member's
    affinity for each title's genres ("popular in the genres you watch").

    Raises:
        ValueError: ``genre`` is an empty string.
    """

    name = "genre"

    def __init__(self, genre: str | None = None) -> None:
        if genre is not None and not genre:
            raise ValueError("genre must be a non-empty string (or None for the member's genres)")
        super().__init__()
        self.genre = genre
        self._viewers: NDArray[np.float64] = np.zeros(0)

    def _fit(self, data: RankingData) -> None:
        self._viewers = _viewers(data)

    def scores(self, member: Member) -> Scores:
        index = self.require_index()
        if self.genre is not None:
            if self.genre not in index.genres:
                return np.full(len(index), -np.inf)
            inside = index.genre_matrix[:, index.genres.index(self.genre)]
            return np.where(inside, self._viewers, -np.inf)
        matrix = index.genre_matrix
        counts = matrix[member.titles].sum(axis=0).astype(np.float64)
        if member.is_cold or counts.sum() == 0:
            return self._viewers.copy()
        affinity = matrix @ (counts / counts.sum()) / np.maximum(1, matrix.sum(axis=1))
        # As the simulator (and, roughly, members) choose: popularity x taste, plus a floor.
        return (affinity + 0.02) * self._viewers + _prior(self._viewers)

    def get_state(self) -> dict[str, NDArray[Any]]:
        return {"viewers": self._viewers}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        super().load_state(index, state)
        self._viewers = np.asarray(state["viewers"], dtype=np.float64)


class EaseRanker(Ranker):
    """Personalised ranking: EASE (Steck 2019), a closed-form item-item linear model.

    ``B = I - P / diag(P)`` with ``P = (X'X + l2 I)^-1`` over the binary member x title
    matrix, restricted to the ``max_titles`` most-watched titles: the inverse costs O(n^3)
    (about 3 s for 4,000 titles on two cores, a minute for 10,000) and its memory O(n^2),
    while the titles left out are those with the fewest plays to learn from. Those, and titles
    nobody has watched yet, are scored by content similarity to the member's history, scaled
    to ``content_weight`` times the member's best EASE score. A member with no history gets
    popularity.

    Args:
        l2: regularisation; larger favours popular titles.
        max_titles: size of the modelled head of the catalogue.
        content_weight: weight of the content score of titles outside the head.

    Raises:
        ValueError: an argument is out of range (named in the message).
    """

    name = "personalized"

    def __init__(
        self, l2: float = 200.0, max_titles: int = 4000, content_weight: float = 0.5
    ) -> None:
        if not l2 > 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        if max_titles < 1:
            raise ValueError(f"max_titles must be >= 1, got {max_titles}")
        if not 0 <= content_weight <= 1:
            raise ValueError(f"content_weight must be in [0, 1], got {content_weight}")
        super().__init__()
        self.l2 = l2
        self.max_titles = max_titles
        self.content_weight = content_weight
        self._head: NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._head_pos: NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._weights: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._viewers: NDArray[np.float64] = np.zeros(0)
        self._tail_cache: tuple[NDArray[np.int64], NDArray[np.float32]] = (
            np.zeros(0, dtype=np.int64),
            np.zeros((0, 0), dtype=np.float32),
        )
        self._tail_of: TitleIndex | None = None

    def _fit(self, data: RankingData) -> None:
        from scipy.sparse import csr_matrix

        log, n_titles = data.log, len(data.index)
        users, titles = log.pairs()
        viewers = np.bincount(titles, minlength=n_titles).astype(np.float64)
        watched = np.flatnonzero(viewers > 0)
        head = np.sort(watched[np.argsort(-viewers[watched], kind="stable")][: self.max_titles])
        head_pos = np.full(n_titles, -1, dtype=np.int32)
        head_pos[head] = np.arange(len(head), dtype=np.int32)
        keep = head_pos[titles] >= 0
        matrix = csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float64), (users[keep], head_pos[titles[keep]])),
            shape=(len(log.user_ids), len(head)),
        )
        gram = (matrix.T @ matrix).toarray()
        self._weights = ease_weights(gram, self.l2)
        self._head, self._head_pos, self._viewers = head.astype(np.int32), head_pos, viewers

    def scores(self, member: Member) -> Scores:
        index = self.require_index()
        prior = _prior(self._viewers)
        if member.is_cold:
            return self._viewers + prior
        result = np.full(len(index), -np.inf)
        pos = self._head_pos[member.titles]
        pos = pos[pos >= 0]
        head_scores = (
            self._weights[pos].sum(axis=0, dtype=np.float64)
            if len(pos)
            else np.zeros(len(self._head))
        )
        result[self._head] = head_scores
        content = index.content
        if content.shape[1] and self.content_weight > 0:
            tail, tail_content = self._tail
            if len(tail):
                scale = self.content_weight * max(float(head_scores.max(initial=0.0)), 1e-3)
                result[tail] = scale * (tail_content @ profile(content, member.titles))
        return result + prior

    @property
    def _tail(self) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Titles outside the head that have content (scored by content similarity), and
        their content vectors (gathered once, not per request)."""
        index = self.require_index()
        if self._tail_of is not index:
            tail = np.flatnonzero((self._head_pos < 0) & index.has_content)
            self._tail_cache = (tail, np.ascontiguousarray(index.content[tail]))
            self._tail_of = index
        return self._tail_cache

    def get_state(self) -> dict[str, NDArray[Any]]:
        return {"head": self._head, "weights": self._weights, "viewers": self._viewers}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        super().load_state(index, state)
        self._head = np.asarray(state["head"], dtype=np.int32)
        self._weights = np.asarray(state["weights"], dtype=np.float32)
        self._viewers = np.asarray(state["viewers"], dtype=np.float64)
        self._head_pos = np.full(len(index), -1, dtype=np.int32)
        self._head_pos[self._head] = np.arange(len(self._head), dtype=np.int32)


class ItemSimilarityRanker(Ranker):
    """Title-to-title similarity, the model behind "Because you watched X".

    Similarity blends co-viewing (cosine over the binary member x title matrix) with content
    similarity (cosine of content vectors): ``(1 - w) * co + w * content``. A title nobody has
    watched yet has no co-viewing but does have content, so it can still be a neighbour: that
    is how a new title reaches members. The ``neighbours`` nearest titles are kept per title;
    a member's score for a title sums its similarity to every title they watched.

    Args:
        neighbours: neighbours kept per title.
        content_weight: ``w`` above.

    Raises:
        ValueError: an argument is out of range (named in the message).
    """

    name = "because_you_watched"

    def __init__(self, neighbours: int = 50, content_weight: float = 0.3) -> None:
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        if not 0 <= content_weight <= 1:
            raise ValueError(f"content_weight must be in [0, 1], got {content_weight}")
        super().__init__()
        self.neighbours = neighbours
        self.content_weight = content_weight
        self._nbr: NDArray[np.int32] = np.zeros((0, 0), dtype=np.int32)
        self._sim: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._viewers: NDArray[np.float64] = np.zeros(0)

    def _fit(self, data: RankingData, chunk: int = 1024) -> None:
        from scipy.sparse import csr_matrix

        log, index = data.log, data.index
        n = len(index)
        users, titles = log.pairs()
        matrix = csr_matrix(
            (np.ones(len(users), dtype=np.float32), (users, titles)),
            shape=(len(log.user_ids), n),
        )
        co = (matrix.T @ matrix).tocsr()
        viewers = co.diagonal().astype(np.float64)
        inv_sqrt = np.where(viewers > 0, 1.0 / np.sqrt(np.maximum(viewers, 1.0)), 0.0)
        inv_sqrt = inv_sqrt.astype(np.float32)
        content, w = index.content, self.content_weight
        k = min(self.neighbours, max(0, n - 1))
        nbr = np.zeros((n, k), dtype=np.int32)
        sim = np.zeros((n, k), dtype=np.float32)
        for start in range(0, n, chunk):
            rows = np.arange(start, min(n, start + chunk))
            block = co[rows].toarray()
            block *= inv_sqrt[rows, None]
            block *= inv_sqrt[None, :]
            if content.shape[1] and w > 0:
                block *= 1.0 - w
                block += w * (content[rows] @ content.T)
            block[np.arange(len(rows)), rows] = -np.inf
            if k == 0:
                continue
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
            values = np.take_along_axis(block, part, axis=1)
            order = np.argsort(-values, axis=1, kind="stable")
            nbr[rows] = np.take_along_axis(part, order, axis=1)
            sim[rows] = np.take_along_axis(values, order, axis=1)
        self._nbr, self._sim, self._viewers = nbr, np.maximum(sim, 0.0), viewers

    def similar(
        self, title: int, k: int, exclude: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        """The ``k`` titles most similar to title index ``title`` (positive similarity only)."""
        self.require_index()
        nbr, sim = self._nbr[title], self._sim[title]
        keep = sim > 0
        if exclude is not None:
            keep &= ~exclude[nbr]
        return nbr[keep][:k], sim[keep][:k].astype(np.float64)

    def scores(self, member: Member) -> Scores:
        index = self.require_index()
        prior = _prior(self._viewers)
        if member.is_cold or self._nbr.shape[1] == 0:
            return self._viewers + prior
        total = np.bincount(
            self._nbr[member.titles].ravel(),
            weights=self._sim[member.titles].ravel(),
            minlength=len(index),
        )
        return total + prior

    def get_state(self) -> dict[str, NDArray[Any]]:
        return {"neighbours": self._nbr, "similarity": self._sim, "viewers": self._viewers}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        super().load_state(index, state)
        self._nbr = np.asarray(state["neighbours"], dtype=np.int32)
        self._sim = np.asarray(state["similarity"], dtype=np.float32)
        self._viewers = np.asarray(state["viewers"], dtype=np.float64)


class ContentRanker(Ranker):
    """Content similarity: titles whose content vectors are closest to the mean of what the
    member watched. Needs no plays of the candidate title, so it reaches brand-new titles;
    titles without a content vector are never returned. A new member gets popularity."""

    name = "content"

    def __init__(self) -> None:
        super().__init__()
        self._viewers: NDArray[np.float64] = np.zeros(0)

    def _fit(self, data: RankingData) -> None:
        self._viewers = _viewers(data)

    def scores(self, member: Member) -> Scores:
        index = self.require_index()
        content = index.content
        prior = _prior(self._viewers)
        if member.is_cold or content.shape[1] == 0:
            return self._viewers + prior
        similarity = (content @ profile(content, member.titles)).astype(np.float64)
        return np.where(index.has_content, similarity + prior, -np.inf)

    def get_state(self) -> dict[str, NDArray[Any]]:
        return {"viewers": self._viewers}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        super().load_state(index, state)
        self._viewers = np.asarray(state["viewers"], dtype=np.float64)


RANKER_CLASSES: tuple[type[Ranker], ...] = (
    PopularityRanker,
    TrendingRanker,
    ContinueWatchingRanker,
    GenreRanker,
    EaseRanker,
    ItemSimilarityRanker,
    ContentRanker,
    TopPicksRanker,
)
"""Every ranker artwork ships; :mod:`artwork.ranking.registry` keys them by name."""

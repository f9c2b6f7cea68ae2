"""Rankers over plays: popularity (top-N), continue watching, and genre popularity."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from artwork.domain import Interaction, ScoredTitle
from artwork.ranking.base import Ranker, RankingData

#: A play counts as finished at this completion (credits make 100% rare).
FINISHED_AT = 0.9
#: Plays shorter than this (seconds) are browsing, not watching.
MIN_WATCH_S = 1.0


class PopularityRanker(Ranker):
    """Top-N: titles by how many distinct members watched them, the same for everyone."""

    name = "popularity"

    def __init__(self) -> None:
        self._ranked: list[ScoredTitle] = []

    def fit(self, data: RankingData) -> None:
        viewers: dict[str, set[str]] = defaultdict(set)
        for item in data.interactions:
            if item.seconds >= MIN_WATCH_S and item.title_id in data.titles:
                viewers[item.title_id].add(item.user_id)
        counts = Counter({t: len(users) for t, users in viewers.items()})
        # Titles nobody watched still rank (after watched ones) so a new catalogue has a page.
        for title_id in data.titles:
            counts.setdefault(title_id, 0)
        self._ranked = [
            ScoredTitle(t, float(c))
            for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    def rank(self, user_id: str, k: int) -> list[ScoredTitle]:
        return self._ranked[:k]


class ContinueWatchingRanker(Ranker):
    """Titles the member started and did not finish, most recently watched first."""

    name = "continue_watching"

    def __init__(self) -> None:
        self._data: RankingData | None = None

    def fit(self, data: RankingData) -> None:
        self._data = data

    def rank(self, user_id: str, k: int) -> list[ScoredTitle]:
        if self._data is None:
            raise RuntimeError("ContinueWatchingRanker.rank called before fit")
        progress = _progress(self._data.by_user.get(user_id, ()), self._data)
        in_progress = [
            (last_seen, title_id)
            for title_id, (fraction, last_seen) in progress.items()
            if fraction < FINISHED_AT
        ]
        in_progress.sort(reverse=True)
        return [ScoredTitle(t, when.timestamp()) for when, t in in_progress[:k]]


class GenreRanker(Ranker):
    """Popularity within one genre."""

    name = "genre"

    def __init__(self, genre: str) -> None:
        if not genre:
            raise ValueError("genre must be a non-empty string")
        self.genre = genre
        self._ranked: list[ScoredTitle] = []

    def fit(self, data: RankingData) -> None:
        popularity = PopularityRanker()
        popularity.fit(data)
        everything = popularity.rank("", len(data.titles))
        self._ranked = [s for s in everything if self.genre in data.titles[s.title_id].genres]

    def rank(self, user_id: str, k: int) -> list[ScoredTitle]:
        return self._ranked[:k]


def _progress(plays: Sequence[Interaction], data: RankingData) -> dict[str, tuple[float, datetime]]:
    """Per title: (fraction watched, time last watched) for one member's plays."""
    watched: dict[str, float] = defaultdict(float)
    last: dict[str, datetime] = {}
    for item in plays:
        if item.title_id not in data.titles or item.seconds < MIN_WATCH_S:
            continue
        watched[item.title_id] += item.seconds
        last[item.title_id] = item.timestamp
    result: dict[str, tuple[float, datetime]] = {}
    for title_id, seconds in watched.items():
        duration = data.titles[title_id].duration_s
        fraction = min(1.0, seconds / duration) if duration else 0.0
        result[title_id] = (fraction, last[title_id])
    return result

"""Row sources: each turns a ranker into candidate homepage rows with a relevance score."""

from __future__ import annotations

from collections import Counter

from artwork.domain import Row
from artwork.ranking.base import RankingData, RowSource
from artwork.ranking.rankers import ContinueWatchingRanker, GenreRanker, PopularityRanker

# Row scores for row-ranking: continue watching leads when present, then what is popular, then
# genres by the member's affinity (their share of plays in the genre). A member with no history
# sees genres ordered by catalogue size.
CONTINUE_WATCHING_SCORE = 1.0
POPULAR_SCORE = 0.8
GENRE_BASE_SCORE = 0.2
GENRE_AFFINITY_WEIGHT = 0.7


class ContinueWatchingRows(RowSource):
    name = "continue_watching"

    def __init__(self) -> None:
        self._ranker = ContinueWatchingRanker()

    def fit(self, data: RankingData) -> None:
        self._ranker.fit(data)

    def rows(self, user_id: str, k: int) -> list[Row]:
        items = self._ranker.rank(user_id, k)
        if not items:
            return []
        return [
            Row(
                "continue-watching",
                "Continue watching",
                self.name,
                tuple(items),
                CONTINUE_WATCHING_SCORE,
            )
        ]


class PopularRows(RowSource):
    name = "popularity"

    def __init__(self) -> None:
        self._ranker = PopularityRanker()

    def fit(self, data: RankingData) -> None:
        self._ranker.fit(data)

    def rows(self, user_id: str, k: int) -> list[Row]:
        items = self._ranker.rank(user_id, k)
        if not items:
            return []
        return [Row("popular", "Popular now", self.name, tuple(items), POPULAR_SCORE)]


class GenreRows(RowSource):
    """One row per genre in the catalogue, ordered by the member's affinity for it."""

    name = "genre"

    def __init__(self) -> None:
        self._rankers: dict[str, GenreRanker] = {}
        self._data: RankingData | None = None
        self._sizes: Counter[str] = Counter()

    def fit(self, data: RankingData) -> None:
        self._data = data
        self._sizes = Counter(g for title in data.titles.values() for g in title.genres)
        self._rankers = {}
        for genre in self._sizes:
            ranker = GenreRanker(genre)
            ranker.fit(data)
            self._rankers[genre] = ranker

    def rows(self, user_id: str, k: int) -> list[Row]:
        if self._data is None:
            raise RuntimeError("GenreRows.rows called before fit")
        affinity = self._affinity(user_id)
        largest = max(self._sizes.values(), default=1)
        rows = []
        for genre, ranker in self._rankers.items():
            items = ranker.rank(user_id, k)
            if not items:
                continue
            # Size breaks ties between genres the member has not watched (cold start).
            score = (
                GENRE_BASE_SCORE
                + GENRE_AFFINITY_WEIGHT * affinity.get(genre, 0.0)
                + 0.01 * self._sizes[genre] / largest
            )
            rows.append(Row(f"genre:{genre}", genre.title(), self.name, tuple(items), score))
        return rows

    def _affinity(self, user_id: str) -> dict[str, float]:
        assert self._data is not None
        counts: Counter[str] = Counter()
        for play in self._data.by_user.get(user_id, ()):
            title = self._data.titles.get(play.title_id)
            if title is not None:
                counts.update(title.genres)
        total = sum(counts.values())
        return {g: c / total for g, c in counts.items()} if total else {}


ROW_SOURCES: dict[str, type[RowSource]] = {
    cls.name: cls for cls in (ContinueWatchingRows, PopularRows, GenreRows)
}

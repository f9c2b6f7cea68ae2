"""Offline evaluation: a temporal split of the plays, ranking metrics (recall@k, nDCG@k) and
what a page shows on its first screen.

The protocol: fit on plays before a cut-off, then ask each ranker for a member's top ``k``
titles (leaving out what they watched before the cut-off) and compare with the titles they went
on to watch after it. Continue watching is measured on its own job instead: which of the titles
in progress at the cut-off the member resumed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Homepage
from artwork.ranking.base import Ranker, RankingData, TitleIndex
from artwork.ranking.interactions import MIN_WATCH_S, InteractionLog, Member, from_epoch


def recall_at_k(
    recommended: Sequence[int] | NDArray[np.integer], relevant: set[int], k: int
) -> float:
    """Share of ``relevant`` found in the first ``k`` of ``recommended``, out of at most
    ``k`` (so a perfect list scores 1 even when more than ``k`` are relevant)."""
    if not relevant:
        raise ValueError("relevant must not be empty")
    hits = sum(1 for t in list(recommended)[:k] if int(t) in relevant)
    return hits / min(k, len(relevant))


def ndcg_at_k(
    recommended: Sequence[int] | NDArray[np.integer], relevant: set[int], k: int
) -> float:
    """Normalised discounted cumulative gain of the first ``k`` with binary relevance."""
    if not relevant:
        raise ValueError("relevant must not be empty")
    gains = [
        1.0 / np.log2(i + 2) for i, t in enumerate(list(recommended)[:k]) if int(t) in relevant
    ]
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return float(sum(gains) / ideal)


@dataclass(frozen=True, eq=False)
class TemporalSplit:
    """Plays before and after a cut-off time (seconds since the epoch)."""

    train: InteractionLog
    test: InteractionLog
    cutoff: float

    @classmethod
    def by_fraction(cls, log: InteractionLog, test_fraction: float = 0.1) -> TemporalSplit:
        """The last ``test_fraction`` of the plays (by time) are the test period.

        Raises:
            ValueError: ``test_fraction`` is not in (0, 1) or the log is empty.
        """
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        if len(log) == 0:
            raise ValueError("the log is empty")
        cutoff = float(np.quantile(log.timestamp, 1.0 - test_fraction))
        before = log.timestamp < cutoff
        return cls(log.select(before), log.select(~before), cutoff)

    def train_data(self, base: RankingData) -> RankingData:
        """``base``'s titles and content with the training plays, as of the cut-off."""
        return RankingData(base.titles, self.train, from_epoch(self.cutoff), base.content)


@dataclass(frozen=True)
class Targets:
    """What each evaluated member did after the cut-off, as title indices."""

    new: dict[str, set[int]]
    resumed: dict[str, set[int]]


def targets(split: TemporalSplit, train: RankingData) -> Targets:
    """Per member with a history before the cut-off: titles first watched after it (``new``)
    and titles in progress at the cut-off that they resumed (``resumed``)."""
    test = split.test.reindex_titles(train.index.title_ids)
    new: dict[str, set[int]] = {}
    resumed: dict[str, set[int]] = {}
    watched = test.seconds >= MIN_WATCH_S
    users, titles = test.user[watched], test.title[watched]
    by_user: dict[int, set[int]] = {}
    for u, t in zip(users.tolist(), titles.tolist(), strict=True):
        by_user.setdefault(u, set()).add(t)
    for u, later in by_user.items():
        user_id = test.user_ids[u]
        member = train.member(user_id)
        if member.is_cold:
            continue
        seen = set(member.titles.tolist())
        fresh = later - seen
        if fresh:
            new[user_id] = fresh
        open_ = set(member.titles[member.fraction < 0.9].tolist()) & later
        if open_:
            resumed[user_id] = open_
    return Targets(new, resumed)


@dataclass(frozen=True)
class RankerScore:
    """A ranker's mean metrics over the evaluated members."""

    recall: float
    ndcg: float
    members: int
    target: str
    cold_recall: float | None = None
    cold_members: int = 0


def evaluate(
    rankers: Mapping[str, Ranker],
    train: RankingData,
    wanted: Mapping[str, set[int]],
    k: int = 10,
    exclude_seen: bool = True,
    cold_titles: NDArray[np.bool_] | None = None,
    target: str = "new",
) -> dict[str, RankerScore]:
    """Mean recall@k and nDCG@k of each ranker over the members in ``wanted``.

    Args:
        rankers: fitted on ``train``.
        train: the training snapshot (members' histories come from it).
        wanted: per member id, the title indices they went on to watch.
        k: list length.
        exclude_seen: leave out titles watched before the cut-off.
        cold_titles: titles without a play before the cut-off; recall over just those is
            reported as ``cold_recall`` for members who went on to watch one.
        target: a label for what ``wanted`` holds.
    """
    recall: dict[str, list[float]] = {n: [] for n in rankers}
    ndcg: dict[str, list[float]] = {n: [] for n in rankers}
    cold: dict[str, list[float]] = {n: [] for n in rankers}
    n_titles = len(train.index)
    for user_id, relevant in wanted.items():
        member = train.member(user_id)
        exclude = member.seen_mask(n_titles) if exclude_seen else None
        cold_relevant = (
            {t for t in relevant if cold_titles[t]} if cold_titles is not None else set()
        )
        for name, ranker in rankers.items():
            chosen, _ = ranker.top(member, k, exclude)
            recall[name].append(recall_at_k(chosen, relevant, k))
            ndcg[name].append(ndcg_at_k(chosen, relevant, k))
            if cold_relevant:
                cold[name].append(recall_at_k(chosen, cold_relevant, k))
    return {
        name: RankerScore(
            float(np.mean(recall[name])) if recall[name] else 0.0,
            float(np.mean(ndcg[name])) if ndcg[name] else 0.0,
            len(recall[name]),
            target,
            float(np.mean(cold[name])) if cold[name] else None,
            len(cold[name]),
        )
        for name in rankers
    }


@dataclass(frozen=True)
class FirstScreen:
    """What the first screen (first N rows x M titles) of a page shows."""

    slots: int
    distinct_titles: int
    genres: int

    @property
    def distinct_share(self) -> float:
        """Distinct titles per filled slot (1.0: no title twice)."""
        return self.distinct_titles / self.slots if self.slots else 1.0


def first_screen(page: Homepage, index: TitleIndex, rows: int, titles: int) -> FirstScreen:
    """Slots filled, distinct titles and distinct genres in the first ``rows`` x ``titles``."""
    shown = [item.title_id for row in page.rows[:rows] for item in row.items[:titles]]
    distinct = set(shown)
    position = index.position
    genres = {g for t in distinct if t in position for g in index.title_genres[position[t]]}
    return FirstScreen(len(shown), len(distinct), len(genres))


def sample_members(ids: Iterable[str], n: int, seed: int) -> list[str]:
    """Up to ``n`` of ``ids``, drawn without replacement (sorted first, so seeded runs agree)."""
    pool = sorted(ids)
    if len(pool) <= n:
        return pool
    rng = np.random.default_rng(seed)
    return [pool[i] for i in sorted(rng.choice(len(pool), size=n, replace=False))]


def members_of(data: RankingData, ids: Iterable[str]) -> list[Member]:
    """Members' histories in ``data``."""
    return [data.member(user_id) for user_id in ids]

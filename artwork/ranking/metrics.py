"""Offline evaluation: a temporal split of the plays, ranking metrics (recall@k, nDCG@k) and
what a page shows on its first screen.

The protocol: fit on plays before a cut-off, then ask each ranker for a member's top ``k``
titles (leaving out what they watched before the cut-off) and compare with the titles they went
on to watch after it. Continue watching is measured on its own job instead: which of the titles
in progress at the cut-off the member resumed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Homepage
from artwork.ranking.base import Ranker
from artwork.ranking.data import RankingData
from artwork.ranking.index import TitleIndex
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
    """A ranker's mean metrics over the evaluated members, and each member's values (in the
    order members were given, for bootstrap intervals)."""

    recall: float
    ndcg: float
    members: int
    target: str
    cold_recall: float | None = None
    cold_members: int = 0
    per_member_recall: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    per_member_ndcg: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


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
    histories = [train.member(user_id) for user_id in wanted]
    return evaluate_members(
        rankers, histories, list(wanted.values()), k, exclude_seen, cold_titles, target
    )


def evaluate_members(
    rankers: Mapping[str, Ranker],
    histories: Sequence[Member],
    wanted: Sequence[set[int]],
    k: int = 10,
    exclude_seen: bool = True,
    cold_titles: NDArray[np.bool_] | None = None,
    target: str = "new",
) -> dict[str, RankerScore]:
    """Like ``evaluate``, for members given with their histories (``wanted[i]`` belongs to
    ``histories[i]``), so each member can be scored as of their own cut-off."""
    if len(histories) != len(wanted):
        raise ValueError(f"{len(histories)} histories for {len(wanted)} target sets")
    recall: dict[str, list[float]] = {n: [] for n in rankers}
    ndcg: dict[str, list[float]] = {n: [] for n in rankers}
    cold: dict[str, list[float]] = {n: [] for n in rankers}
    n_titles = len(next(iter(rankers.values())).require_index()) if rankers else 0
    for member, relevant in zip(histories, wanted, strict=True):
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
            np.array(recall[name], dtype=np.float64),
            np.array(ndcg[name], dtype=np.float64),
        )
        for name in rankers
    }


@dataclass(frozen=True, eq=False)
class MemberSplit:
    """Each member's last ``holdout`` share of plays (by time) held out, scored as of the
    member's own cut-off without looking past it.

    Models are fitted at a few snapshot times (``snapshots``, seconds since the epoch, on
    every member's plays before that time, as a service retraining periodically would); a
    member is scored by the newest snapshot at or before their cut-off (the time of their
    first held-out play), from their own plays before the cut-off. Nothing a member is scored
    with comes from after their cut-off, so popularity and trending cannot peek at the
    future; members whose cut-off precedes the first snapshot are not evaluated.

    Attributes:
        log: the whole log.
        snapshots: snapshot times, ascending.
        cut: per member index, the position (within their plays, oldest first) of their first
            held-out play; -1 for members with fewer than two plays.
        cut_time: per member index, the time of that play (NaN where ``cut`` is -1).
    """

    log: InteractionLog
    snapshots: tuple[float, ...]
    cut: NDArray[np.int64]
    cut_time: NDArray[np.float64]

    @classmethod
    def by_member(
        cls,
        log: InteractionLog,
        holdout: float = 0.2,
        snapshots: int = 3,
        spacing: float = 0.1,
    ) -> MemberSplit:
        """Hold out each member's last ``holdout`` of plays (at least one, and at least one
        kept); snapshots at the play-time quantiles ``1 - spacing``, ``1 - 2 spacing``, ...

        Raises:
            ValueError: an argument is out of range, or the log is empty.
        """
        if not 0.0 < holdout < 1.0:
            raise ValueError(f"holdout must be in (0, 1), got {holdout}")
        if snapshots < 1:
            raise ValueError(f"snapshots must be >= 1, got {snapshots}")
        if not spacing > 0.0 or snapshots * spacing >= 1.0:
            raise ValueError(
                f"spacing must be > 0 with snapshots x spacing < 1, got {spacing} x {snapshots}"
            )
        if len(log) == 0:
            raise ValueError("the log is empty")
        counts = np.bincount(log.user, minlength=len(log.user_ids))
        held = np.maximum(1, np.floor(holdout * counts)).astype(np.int64)
        cut = np.where(counts >= 2, counts - held, -1)
        cut_time = np.full(len(counts), np.nan)
        for u in np.flatnonzero(cut >= 0):
            cut_time[u] = log.timestamp[log.plays_of(int(u))[cut[u]]]
        quantiles = [1.0 - spacing * i for i in range(snapshots, 0, -1)]
        times = tuple(float(t) for t in np.quantile(log.timestamp, quantiles))
        return cls(log, times, cut, cut_time)

    def snapshot_of(self, user: int) -> int | None:
        """The snapshot member index ``user`` is scored by, or None (not evaluated)."""
        when = self.cut_time[user]
        if np.isnan(when) or when < self.snapshots[0]:
            return None
        return int(np.searchsorted(self.snapshots, when, side="right")) - 1

    def train_data(self, base: RankingData, snapshot: int) -> RankingData:
        """``base``'s titles and content with every play before snapshot ``snapshot``."""
        moment = self.snapshots[snapshot]
        plays = self.log.select(self.log.timestamp < moment)
        return RankingData(base.titles, plays, from_epoch(moment), base.content)

    def history(self, index: TitleIndex, user: int) -> Member:
        """Member index ``user``'s history before their cut-off, over ``index``."""
        rows = self.log.plays_of(user)[: max(0, int(self.cut[user]))]
        log = self.log
        return Member.from_plays(
            log.user_ids[user],
            log.title[rows],
            log.timestamp[rows],
            log.seconds[rows],
            index.duration,
            log.duration[rows],
        )

    def held_out(self, user: int, seen: NDArray[np.bool_]) -> set[int]:
        """Titles member index ``user`` watched after their cut-off and not before."""
        rows = self.log.plays_of(user)[max(0, int(self.cut[user])) :]
        rows = rows[self.log.seconds[rows] >= MIN_WATCH_S]
        return {t for t in self.log.title[rows].tolist() if not seen[t]}

    def eligible(self) -> dict[int, list[int]]:
        """Members evaluated, by the snapshot that scores them."""
        groups: dict[int, list[int]] = {}
        for u in np.flatnonzero(self.cut >= 0).tolist():
            j = self.snapshot_of(u)
            if j is not None:
                groups.setdefault(j, []).append(u)
        return groups


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

"""Plays as numpy columns (``InteractionLog``) and one member's history (``Member``).

Rankers train on a million plays; a list of ``Interaction`` objects is convenient at the edges
(the catalogue, CSV import, tests) but not for training, so the ranking core works on columns:
integer member and title indices into two vocabularies, times as seconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Interaction

#: A play counts as finished at this completion (credits make 100% rare).
FINISHED_AT = 0.9
#: Plays shorter than this (seconds) are browsing, not watching.
MIN_WATCH_S = 1.0


def to_epoch(moment: datetime) -> float:
    """Seconds since the Unix epoch of a timezone-aware datetime.

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError(f"datetimes must be timezone-aware, got {moment!r}")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """The UTC datetime of seconds since the Unix epoch."""
    return datetime.fromtimestamp(float(seconds), tz=UTC)


@dataclass(frozen=True, eq=False)
class InteractionLog:
    """Plays as parallel columns, oldest first.

    Attributes:
        user_ids: member vocabulary; ``user`` holds indices into it.
        title_ids: title vocabulary; ``title`` holds indices into it.
        user: member index of each play.
        title: title index of each play.
        timestamp: when each play happened, seconds since the epoch (UTC), non-decreasing.
        seconds: seconds watched.
        duration: the title's runtime as reported with the play, NaN where unknown.
    """

    user_ids: tuple[str, ...]
    title_ids: tuple[str, ...]
    user: NDArray[np.int32]
    title: NDArray[np.int32]
    timestamp: NDArray[np.float64]
    seconds: NDArray[np.float32]
    duration: NDArray[np.float32]

    def __post_init__(self) -> None:
        n = len(self.user)
        for name in ("title", "timestamp", "seconds", "duration"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, user has {n}")
        if n and np.any(np.diff(self.timestamp) < 0):
            raise ValueError("timestamp must be sorted oldest first (from_arrays sorts)")

    @classmethod
    def from_arrays(
        cls,
        user_ids: Sequence[str],
        title_ids: Sequence[str],
        user: NDArray[np.integer],
        title: NDArray[np.integer],
        timestamp: NDArray[np.floating],
        seconds: NDArray[np.floating],
        duration: NDArray[np.floating] | None = None,
    ) -> InteractionLog:
        """A log from unsorted columns: sorted by time (stably), with compact dtypes."""
        order = np.argsort(np.asarray(timestamp, dtype=np.float64), kind="stable")
        dur = (
            np.full(len(order), np.nan, dtype=np.float32)
            if duration is None
            else np.asarray(duration, dtype=np.float32)[order]
        )
        return cls(
            user_ids=tuple(user_ids),
            title_ids=tuple(title_ids),
            user=np.asarray(user, dtype=np.int32)[order],
            title=np.asarray(title, dtype=np.int32)[order],
            timestamp=np.asarray(timestamp, dtype=np.float64)[order],
            seconds=np.asarray(seconds, dtype=np.float32)[order],
            duration=dur,
        )

    @classmethod
    def from_interactions(
        cls, items: Iterable[Interaction], title_ids: Sequence[str] | None = None
    ) -> InteractionLog:
        """Columns of ``items``; with ``title_ids``, plays of other titles are dropped.

        Args:
            items: plays in any order.
            title_ids: the title vocabulary to index into; default: the titles seen, sorted.
        """
        plays = list(items)
        vocabulary = (
            tuple(title_ids)
            if title_ids is not None
            else tuple(sorted({p.title_id for p in plays}))
        )
        position = {t: i for i, t in enumerate(vocabulary)}
        kept = [p for p in plays if p.title_id in position]
        users: dict[str, int] = {}
        user = np.array([users.setdefault(p.user_id, len(users)) for p in kept], np.int32)
        return cls.from_arrays(
            user_ids=tuple(users),
            title_ids=vocabulary,
            user=user,
            title=np.array([position[p.title_id] for p in kept], dtype=np.int32),
            timestamp=np.array([to_epoch(p.timestamp) for p in kept], dtype=np.float64),
            seconds=np.array([p.seconds for p in kept], dtype=np.float32),
            duration=np.array(
                [np.nan if p.duration_s is None else p.duration_s for p in kept], np.float32
            ),
        )

    def __len__(self) -> int:
        return len(self.user)

    def select(self, mask: NDArray[np.bool_]) -> InteractionLog:
        """The plays where ``mask`` is true, with the same vocabularies."""
        return InteractionLog(
            self.user_ids,
            self.title_ids,
            self.user[mask],
            self.title[mask],
            self.timestamp[mask],
            self.seconds[mask],
            self.duration[mask],
        )

    def reindex_titles(self, title_ids: Sequence[str]) -> InteractionLog:
        """The log over another title vocabulary; plays of titles not in it are dropped."""
        target = tuple(title_ids)
        if target == self.title_ids:
            return self
        position = {t: i for i, t in enumerate(target)}
        mapping = np.array([position.get(t, -1) for t in self.title_ids], dtype=np.int32)
        mapped = mapping[self.title] if len(self.title) else self.title
        keep = mapped >= 0
        return InteractionLog(
            self.user_ids,
            target,
            self.user[keep],
            mapped[keep],
            self.timestamp[keep],
            self.seconds[keep],
            self.duration[keep],
        )

    @cached_property
    def user_index(self) -> dict[str, int]:
        """Member id to index."""
        return {u: i for i, u in enumerate(self.user_ids)}

    @cached_property
    def _by_user(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Play indices grouped by member (oldest first within each) and group offsets."""
        order = np.argsort(self.user, kind="stable")
        counts = np.bincount(self.user, minlength=len(self.user_ids))
        offsets = np.zeros(len(self.user_ids) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return order, offsets

    def plays_of(self, user: int) -> NDArray[np.int64]:
        """Indices of one member's plays, oldest first."""
        order, offsets = self._by_user
        return order[offsets[user] : offsets[user + 1]]

    def __iter__(self) -> Iterator[Interaction]:
        for u, t, ts, s, d in zip(
            self.user, self.title, self.timestamp, self.seconds, self.duration, strict=True
        ):
            yield Interaction(
                user_id=self.user_ids[u],
                title_id=self.title_ids[t],
                timestamp=from_epoch(ts),
                seconds=float(s),
                duration_s=None if np.isnan(d) else float(d),
            )

    def pairs(
        self, min_seconds: float = MIN_WATCH_S
    ) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """Distinct (member, title) pairs watched for at least ``min_seconds``, ordered by
        member then title (computed once for the default ``min_seconds``)."""
        if min_seconds == MIN_WATCH_S:
            return self._watched_pairs
        return self._pairs(min_seconds)

    @cached_property
    def _watched_pairs(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        return self._pairs(MIN_WATCH_S)

    def _pairs(self, min_seconds: float) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        watched = self.seconds >= min_seconds
        n_titles = max(1, len(self.title_ids))
        keys = np.unique(self.user[watched].astype(np.int64) * n_titles + self.title[watched])
        return (keys // n_titles).astype(np.int32), (keys % n_titles).astype(np.int32)


@dataclass(frozen=True, eq=False)
class Member:
    """One member's viewing history over a title index, as the rankers need it.

    Attributes:
        user_id: the member.
        titles: distinct titles watched (plays under ``MIN_WATCH_S`` are ignored), ordered by
            when they were last played, oldest first.
        fraction: completion of each of those titles in [0, 1] (0 when the runtime is unknown).
        last_played: when each was last played, seconds since the epoch.
    """

    user_id: str
    titles: NDArray[np.int32]
    fraction: NDArray[np.float32]
    last_played: NDArray[np.float64]

    @classmethod
    def cold(cls, user_id: str) -> Member:
        """A member with no history."""
        return cls(
            user_id,
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.float32),
            np.zeros(0, dtype=np.float64),
        )

    @classmethod
    def from_plays(
        cls,
        user_id: str,
        title: NDArray[np.integer],
        timestamp: NDArray[np.floating],
        seconds: NDArray[np.floating],
        runtime: NDArray[np.floating],
        play_duration: NDArray[np.floating] | None = None,
    ) -> Member:
        """A member's history from their plays (any order).

        Args:
            user_id: the member.
            title: title index of each play.
            timestamp: seconds since the epoch of each play.
            seconds: seconds watched in each play.
            runtime: runtime of every title in the index (NaN where unknown).
            play_duration: runtime reported with each play, used where ``runtime`` is unknown.
        """
        title = np.asarray(title)
        watched = np.asarray(seconds) >= MIN_WATCH_S
        if not watched.any():
            return cls.cold(user_id)
        t = title[watched].astype(np.int64)
        ts = np.asarray(timestamp, dtype=np.float64)[watched]
        s = np.asarray(seconds, dtype=np.float64)[watched]
        distinct, inverse = np.unique(t, return_inverse=True)
        total = np.bincount(inverse, weights=s, minlength=len(distinct))
        last = np.full(len(distinct), -np.inf)
        np.maximum.at(last, inverse, ts)
        length = np.asarray(runtime, dtype=np.float64)[distinct]
        if play_duration is not None:
            reported = np.full(len(distinct), np.nan)
            d = np.asarray(play_duration, dtype=np.float64)[watched]
            known = ~np.isnan(d)
            np.fmax.at(reported, inverse[known], d[known])
            length = np.where(np.isnan(length), reported, length)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(length > 0, np.minimum(1.0, total / length), 0.0)
        order = np.argsort(last, kind="stable")
        return cls(
            user_id,
            distinct[order].astype(np.int32),
            np.nan_to_num(fraction[order]).astype(np.float32),
            last[order],
        )

    @property
    def is_cold(self) -> bool:
        """True when the member has watched nothing."""
        return len(self.titles) == 0

    def seen_mask(self, n_titles: int) -> NDArray[np.bool_]:
        """A mask over the title index: true for every title the member has watched."""
        mask = np.zeros(n_titles, dtype=bool)
        mask[self.titles] = True
        return mask

    def finished_mask(self, n_titles: int) -> NDArray[np.bool_]:
        """A mask over the title index: true for titles watched to ``FINISHED_AT``."""
        mask = np.zeros(n_titles, dtype=bool)
        mask[self.titles[self.fraction >= FINISHED_AT]] = True
        return mask

"""The "Top picks for you" ranker: time-aware EASE blended with recent and long-run
popularity by a learning-to-rank stage fitted on a temporal validation cut.

Why a blend: on real catalogues much of what members watch next is what is popular *now*
(on a public ratings log a trending chart beat EASE), while EASE knows each member's tastes.
Neither wins alone and how much each matters differs by member (some follow the charts, some
never do) and by title (a premiere's first week, a classic's long tail), which is what a
learned ranker over both can pick up.

1. **Signals** (``Signals.fit``), from plays before a moment ``now``: EASE over the head of
   the catalogue fitted on plays weighted by recency (``floor + (1 - floor) * 0.5 **
   (age / half_life)``, so a member's last months shape co-viewing more than their first),
   each title's share of viewers (popularity), its share of recency-weighted viewers at
   two half-lives (trending: a day and a week), and when it was first played (its age).
2. **Candidates** for a member: the best ``candidates`` titles by their recency-weighted EASE
   score, plus the top of each chart (a quarter as many each), never a title they watched.
3. **Features** (``FEATURES``) of each candidate: the two EASE scores (plain and weighted by
   how recently the member watched each title) and the weighted one relative to the member's
   best; popularity, the two trends and momentum (short trend over popularity), on a log
   scale; the title's age; the member's share of plays of titles under 30 days old (does
   this member watch new releases?), how many titles they watched, their affinity for the
   title's genres.
4. **Learning to rank**: the last ``VALIDATION_FRACTION`` of the training plays (by time) is
   a validation period; signals fitted on the plays before it give candidates and features
   for members active in it, labelled by whether the member went on to watch the title. A
   ``HistGradientBoostingClassifier`` (pointwise log-loss, negatives subsampled: order is
   what matters) learns the blend; its trees are kept as arrays (``TreeEnsemble``). For
   serving, the charts (popularity, trends, ages) are refitted on every play while EASE is
   kept as fitted before the validation period: the trees learned from exactly those EASE
   scores, EASE's co-viewing changes slowly, and one fit instead of two halves the cost.
   Titles first watched in the validation period reach members through the charts.

Serving a member costs two EASE sums over their history, a union of candidates and the trees
over at most ``1.75 * candidates`` rows (the benchmark's ``page_cpu_ms_p50`` measures the
whole page). With too little data to learn from, the blend falls back to the relative EASE
score plus the short trend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.ranking.base import Ranker
from artwork.ranking.data import RankingData
from artwork.ranking.ease import ease_weights
from artwork.ranking.index import Scores, TitleIndex, top_k
from artwork.ranking.interactions import MIN_WATCH_S, InteractionLog, Member
from artwork.ranking.trees import TreeEnsemble

FEATURES: tuple[str, ...] = (
    "ease",
    "ease_recent",
    "ease_recent_relative",
    "popularity",
    "trend_day",
    "trend_week",
    "momentum",
    "age_days",
    "member_new_release_share",
    "member_titles",
    "genre_affinity",
)
#: Share of the training plays (the latest) that labels the learning-to-rank examples.
VALIDATION_FRACTION = 0.1
#: Members the learning-to-rank stage learns from at most, and the share of negatives kept.
MAX_TRAINING_MEMBERS = 2000
NEGATIVE_SHARE = 0.2
#: Fewest positive examples to fit the trees on; with fewer, the fixed blend serves.
MIN_POSITIVES = 30
#: Half-lives of the two trends, in hours, and of a member's own plays in their EASE profile.
TREND_HALF_LIVES_H = (24.0, 168.0)
MEMBER_HALF_LIFE_D = 14.0
#: Weight a play keeps however old it is (in EASE's training matrix and a member's profile).
RECENCY_FLOOR = 0.1
#: A title this young when a member watched it counts as a new release.
NEW_RELEASE_D = 30.0
#: The trees: shallow and few enough to score a few hundred candidates in about a millisecond.
TREE_ITERATIONS = 80
TREE_DEPTH = 5
TREE_LEAF_NODES = 24
TREE_LEARNING_RATE = 0.1
_HOUR = 3600.0
_DAY = 86400.0


def _recency(age_s: NDArray[np.float64], half_life_s: float) -> NDArray[np.float64]:
    return RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * 0.5 ** (np.maximum(age_s, 0.0) / half_life_s)


def _latest_pairs(
    log: InteractionLog, n_titles: int, now: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Distinct (member, title) pairs watched before ``now`` and when each was last played."""
    keep = (log.seconds >= MIN_WATCH_S) & (log.timestamp < now)
    user, title, when = log.user[keep], log.title[keep], log.timestamp[keep]
    width = max(n_titles, 1)
    # The log is oldest first: the first occurrence in reverse is the latest play.
    key = user.astype(np.int64)[::-1] * width + title[::-1]
    pairs, latest = np.unique(key, return_index=True)
    return pairs // width, pairs % width, when[::-1][latest]


@dataclass(frozen=True, eq=False)
class Signals:
    """What candidates and features are computed from, fitted on plays before ``now``.

    Attributes:
        head: the titles EASE models (index positions, ascending).
        head_pos: per title, its position in ``head`` (-1: outside).
        weights: EASE's B over the head.
        popularity: per title, the share of members who watched it.
        trends: per title, its share of recency-weighted viewers, one row per half-life.
        first_play: per title, when it was first played (NaN: never).
        now: seconds since the epoch.
    """

    head: NDArray[np.int32]
    head_pos: NDArray[np.int32]
    weights: NDArray[np.float32]
    popularity: NDArray[np.float64]
    trends: NDArray[np.float64]
    first_play: NDArray[np.float64]
    now: float

    @classmethod
    def fit(
        cls,
        log: InteractionLog,
        n_titles: int,
        now: float,
        l2: float,
        max_titles: int,
        half_life_d: float,
    ) -> Signals:
        """Signals from the plays of ``log`` (over a title index of ``n_titles``) before ``now``."""
        from scipy.sparse import csr_matrix

        pair_user, pair_title, last_seen = _latest_pairs(log, n_titles, now)
        viewers = np.bincount(pair_title, minlength=n_titles).astype(np.float64)
        watched = np.flatnonzero(viewers > 0)
        head = np.sort(watched[np.argsort(-viewers[watched], kind="stable")][:max_titles])
        head_pos = np.full(n_titles, -1, dtype=np.int32)
        head_pos[head] = np.arange(len(head), dtype=np.int32)
        inside = head_pos[pair_title] >= 0
        _, compact_user = np.unique(pair_user[inside], return_inverse=True)
        matrix = csr_matrix(
            (
                _recency(now - last_seen[inside], half_life_d * _DAY),
                (compact_user, head_pos[pair_title[inside]]),
            ),
            shape=(int(compact_user.max(initial=-1)) + 1, len(head)),
        )
        gram = (matrix.T @ matrix).toarray()
        signals = cls(
            head.astype(np.int32),
            head_pos,
            ease_weights(gram, l2),
            np.zeros(n_titles),
            np.zeros((len(TREND_HALF_LIVES_H), n_titles)),
            np.full(n_titles, np.nan),
            float(now),
        )
        return signals.with_charts(log, now)

    def with_charts(self, log: InteractionLog, now: float) -> Signals:
        """These signals with popularity, trends and first plays from ``log`` before ``now``
        (EASE's weights kept: they change slowly, the charts do not)."""
        n_titles = len(self.head_pos)
        pair_user, pair_title, last_seen = _latest_pairs(log, n_titles, now)
        viewers = np.bincount(pair_title, minlength=n_titles).astype(np.float64)
        members = max(1, len(np.unique(pair_user)))
        trends = np.zeros((len(TREND_HALF_LIVES_H), n_titles))
        for row, hours in enumerate(TREND_HALF_LIVES_H):
            weight = 0.5 ** (np.maximum(now - last_seen, 0.0) / (hours * _HOUR))
            trend = np.bincount(pair_title, weights=weight, minlength=n_titles)
            trends[row] = trend / max(float(trend.sum()), 1e-12)
        keep = (log.seconds >= MIN_WATCH_S) & (log.timestamp < now)
        first_play = np.full(n_titles, np.nan)
        if keep.any():
            titles_seen, first = np.unique(log.title[keep], return_index=True)
            first_play[titles_seen] = log.timestamp[keep][first]
        return replace(
            self,
            popularity=viewers / members,
            trends=trends,
            first_play=first_play,
            now=float(now),
        )

    def get_state(self) -> dict[str, NDArray[Any]]:
        """The arrays, to save."""
        return {
            "head": self.head,
            "weights": self.weights,
            "popularity": self.popularity,
            "trends": self.trends,
            "first_play": self.first_play,
            "now": np.array([self.now]),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, NDArray[Any]], n_titles: int) -> Signals:
        """Inverse of ``get_state``."""
        head = np.asarray(state["head"], dtype=np.int32)
        head_pos = np.full(n_titles, -1, dtype=np.int32)
        head_pos[head] = np.arange(len(head), dtype=np.int32)
        return cls(
            head,
            head_pos,
            np.asarray(state["weights"], dtype=np.float32),
            np.asarray(state["popularity"], dtype=np.float64),
            np.asarray(state["trends"], dtype=np.float64),
            np.asarray(state["first_play"], dtype=np.float64),
            float(np.asarray(state["now"])[0]),
        )


def candidates_and_features(
    signals: Signals, index: TitleIndex, member: Member, candidates: int
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """The member's candidate titles and their features (``FEATURES`` order)."""
    n_titles = len(index)
    seen = member.seen_mask(n_titles)
    pos = signals.head_pos[member.titles]
    known = pos >= 0
    n_head = len(signals.head)
    ease_plain = np.zeros(n_head)
    ease_recent = np.zeros(n_head)
    if known.any():
        rows = signals.weights[pos[known]]
        ease_plain = rows.sum(axis=0, dtype=np.float64)
        age = member.last_played.max() - member.last_played[known]
        ease_recent = _recency(age, MEMBER_HALF_LIFE_D * _DAY) @ rows.astype(np.float64)
    recent_full = np.full(n_titles, -np.inf)
    recent_full[signals.head] = ease_recent
    chosen = [top_k(recent_full, candidates, seen)[0]] if known.any() else []
    quarter = max(1, candidates // 4)
    for chart in (*signals.trends, signals.popularity):
        chosen.append(top_k(chart, quarter, seen)[0])
    cand = np.unique(np.concatenate(chosen)).astype(np.int32)
    x = np.full((len(cand), len(FEATURES)), np.nan)
    head_pos = signals.head_pos[cand]
    in_head = head_pos >= 0
    x[in_head, 0] = ease_plain[head_pos[in_head]]
    x[in_head, 1] = ease_recent[head_pos[in_head]]
    best = float(np.max(x[in_head, 1], initial=0.0))
    x[in_head, 2] = x[in_head, 1] / best if best > 0 else 0.0
    tiny = 1e-9
    x[:, 3] = np.log(signals.popularity[cand] + tiny)
    x[:, 4] = np.log(signals.trends[0][cand] * n_titles + tiny)
    x[:, 5] = np.log(signals.trends[-1][cand] * n_titles + tiny)
    x[:, 6] = x[:, 4] - np.log(signals.popularity[cand] * n_titles + tiny)
    x[:, 7] = np.log1p(np.maximum(signals.now - signals.first_play[cand], 0.0) / _DAY)
    if member.is_cold:
        x[:, 8] = np.nan
    else:
        born = signals.first_play[member.titles]
        young = np.isnan(born) | (member.last_played - born < NEW_RELEASE_D * _DAY)
        x[:, 8] = float(young.mean())
    x[:, 9] = np.log1p(len(member.titles))
    x[:, 10] = 0.0
    if len(index.genres) and not member.is_cold:
        matrix = index.genre_matrix
        counts = matrix[member.titles].sum(axis=0).astype(np.float64)
        affinity = counts / max(float(counts.sum()), 1.0)
        per_title = matrix[cand].astype(np.float64)
        x[:, 10] = (per_title @ affinity) / np.maximum(per_title.sum(axis=1), 1.0)
    return cand, x


def _fallback(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The blend without trees: relative EASE score plus the day's trend (log scale)."""
    ease = np.nan_to_num(x[:, 2], nan=0.0)
    trend = x[:, 4]
    spread = float(trend.max() - trend.min()) if len(trend) else 0.0
    return ease + ((trend - trend.min()) / spread if spread > 0 else 0.0)


class TopPicksRanker(Ranker):
    """Time-aware EASE blended with trending and popularity by learned trees (see the module
    docstring). The member's own history is read at request time, as for every ranker.

    Args:
        l2: EASE's regularisation.
        max_titles: titles EASE models (the most watched).
        half_life_d: days for a play's weight in EASE's training matrix to halve.
        candidates: candidates drawn from EASE per member (the charts add a quarter each).
        seed: seed of the sampling of training members and negatives.

    Raises:
        ValueError: an argument is out of range (named in the message).
    """

    name = "top_picks"

    def __init__(
        self,
        l2: float = 200.0,
        max_titles: int = 4000,
        half_life_d: float = 30.0,
        candidates: int = 200,
        seed: int = 0,
    ) -> None:
        if not l2 > 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        if max_titles < 1:
            raise ValueError(f"max_titles must be >= 1, got {max_titles}")
        if not half_life_d > 0:
            raise ValueError(f"half_life_d must be > 0, got {half_life_d}")
        if candidates < 1:
            raise ValueError(f"candidates must be >= 1, got {candidates}")
        super().__init__()
        self.l2 = l2
        self.max_titles = max_titles
        self.half_life_d = half_life_d
        self.candidates = candidates
        self.seed = seed
        self.signals: Signals | None = None
        self.trees: TreeEnsemble | None = None
        #: Learning-to-rank examples and positives the trees were fitted on.
        self.examples = (0, 0)

    def _signals(self, log: InteractionLog, n_titles: int, now: float) -> Signals:
        return Signals.fit(log, n_titles, now, self.l2, self.max_titles, self.half_life_d)

    def _fit(self, data: RankingData) -> None:
        log, index = data.log, data.index
        now = data.now.timestamp()
        self.trees, self.examples = None, (0, 0)
        cut = float(np.quantile(log.timestamp, 1.0 - VALIDATION_FRACTION)) if len(log) else now
        before = log.timestamp < cut
        if len(log) < 10 or not before.any() or before.all():
            self.signals = self._signals(log, len(index), now)
            return
        # EASE is fitted once, before the validation period, so the trees learn from exactly
        # the scores they will be served with; only the cheap charts are refitted up to now.
        early = log.select(before)
        signals = self._signals(early, len(index), cut)
        self.trees, self.examples = self._learn(signals, early, log.select(~before), index)
        self.signals = signals.with_charts(log, now)

    def _learn(
        self, signals: Signals, early: InteractionLog, later: InteractionLog, index: TitleIndex
    ) -> tuple[TreeEnsemble | None, tuple[int, int]]:
        """Trees learned from what members active in ``later`` watched there, with candidates
        and features from ``signals`` and ``early``."""
        watched = later.seconds >= MIN_WATCH_S
        wanted: dict[int, set[int]] = {}
        for u, t in zip(later.user[watched].tolist(), later.title[watched].tolist(), strict=True):
            wanted.setdefault(u, set()).add(t)
        rng = np.random.default_rng(self.seed)
        users = np.array(sorted(u for u in wanted if len(early.plays_of(u))), dtype=np.int64)
        if len(users) > MAX_TRAINING_MEMBERS:
            users = np.sort(rng.choice(users, size=MAX_TRAINING_MEMBERS, replace=False))
        xs: list[NDArray[np.float64]] = []
        ys: list[NDArray[np.int8]] = []
        for u in users.tolist():
            rows = early.plays_of(u)
            member = Member.from_plays(
                early.user_ids[u],
                early.title[rows],
                early.timestamp[rows],
                early.seconds[rows],
                index.duration,
                early.duration[rows],
            )
            if member.is_cold:
                continue
            cand, x = candidates_and_features(signals, index, member, self.candidates)
            label = np.isin(cand, np.fromiter(wanted[u], dtype=np.int64))
            if not label.any():
                continue
            keep = label | (rng.random(len(cand)) < NEGATIVE_SHARE)
            xs.append(x[keep])
            ys.append(label[keep].astype(np.int8))
        if not xs:
            return None, (0, 0)
        x_all, y_all = np.concatenate(xs), np.concatenate(ys)
        # A column missing everywhere (no genres in a CSV) cannot be binned; it carries nothing.
        x_all[:, np.isnan(x_all).all(axis=0)] = 0.0
        positives = int(y_all.sum())
        if positives < MIN_POSITIVES or positives == len(y_all):
            return None, (len(y_all), positives)
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=TREE_ITERATIONS,
            max_depth=TREE_DEPTH,
            max_leaf_nodes=TREE_LEAF_NODES,
            learning_rate=TREE_LEARNING_RATE,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.seed,
        )
        from threadpoolctl import threadpool_limits

        # One thread: on a shared machine OpenMP's spinning threads cost more than they give.
        with threadpool_limits(limits=1, user_api="openmp"):
            model.fit(x_all, y_all)
        return TreeEnsemble.from_sklearn(model), (len(y_all), positives)

    def scores(self, member: Member) -> Scores:
        index = self.require_index()
        signals = self._require_signals()
        cand, x = candidates_and_features(signals, index, member, self.candidates)
        result = np.full(len(index), -np.inf)
        if len(cand):
            result[cand] = self.trees.predict(x) if self.trees is not None else _fallback(x)
        return result

    def _require_signals(self) -> Signals:
        if self.signals is None:
            raise RuntimeError(f"{type(self).__name__} used before fit")
        return self.signals

    def get_state(self) -> dict[str, NDArray[Any]]:
        state = {f"signals/{k}": v for k, v in self._require_signals().get_state().items()}
        if self.trees is not None:
            state.update({f"trees/{k}": v for k, v in self.trees.get_state().items()})
        state["examples"] = np.array(self.examples, dtype=np.int64)
        return state

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        super().load_state(index, state)
        part = {k[len("signals/") :]: v for k, v in state.items() if k.startswith("signals/")}
        self.signals = Signals.from_state(part, len(index))
        trees = {k[len("trees/") :]: v for k, v in state.items() if k.startswith("trees/")}
        self.trees = TreeEnsemble.from_state(trees) if trees else None
        self.examples = tuple(int(v) for v in state["examples"])[:2]  # type: ignore[assignment]

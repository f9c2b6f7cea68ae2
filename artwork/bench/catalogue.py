"""A synthetic catalogue with its viewing history and ground truth, for the ranking and serving
benchmarks and the ranking tests.

``simulate_catalogue`` builds a whole catalogue with its history in a few vectorised steps
(10,000 titles, 100,000 members and a million plays in seconds), keeping the ground truth
(tastes, popularity, release dates) that :mod:`artwork.bench.pages` uses to simulate what
members play from the homepages they are shown.

Each member draws a taste over genres from a Dirichlet; titles have a latent popularity and a
release lifecycle. A member's plays pick titles with probability proportional to popularity x
taste for the title's genres. Watch time is a fraction of the runtime: most plays finish, some
stop part-way (they feed "continue watching").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Title
from artwork.ranking.data import RankingData
from artwork.ranking.interactions import InteractionLog

if TYPE_CHECKING:
    pass

GENRE_NAMES = (
    "drama",
    "comedy",
    "action",
    "thriller",
    "documentary",
    "animation",
    "family",
    "sci-fi",
    "horror",
    "romance",
    "crime",
    "fantasy",
    "mystery",
    "adventure",
    "music",
    "history",
    "war",
    "western",
    "sports",
    "reality",
    "anime",
    "biography",
    "musical",
    "teen",
    "stand-up",
    "nature",
    "travel",
    "food",
    "kids",
    "classic",
    "indie",
    "noir",
)
# The dynamics of a catalogue's viewing, and why each default (see docs/ranking.md):
#: A title's interest peaks at this many times its back-catalogue level: new releases take a
#: large share of a month's viewing on streaming services.
RELEASE_BOOST = 30.0
#: Days from release to the peak (word of mouth builds over a weekend).
RISE_DAYS = 2.0
#: Median days for the release burst to fall by e; it varies by title (log-normal,
#: ``DECAY_SPREAD``): most releases fade within weeks, a few hold on for months.
DECAY_DAYS = 10.0
DECAY_SPREAD = 0.6
#: Mean share of a member's plays picked from what is popular right now rather than from their
#: own tastes; it varies by member (Beta with concentration ``NOVELTY_CONCENTRATION``).
NOVELTY_MEAN = 0.35
NOVELTY_CONCENTRATION = 3.0
#: Genres with a season during the period (a holiday, a sports event, Halloween): interest
#: in them rises by up to ``SEASON_BOOST`` times, over about ``SEASON_DAYS`` days.
SEASONAL_GENRES = 3
SEASON_BOOST = 3.0
SEASON_DAYS = 5.0
_DAY = 86400.0


def lifecycle(
    age_days: NDArray[np.float64], decay_days: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """A title's interest at an age (days since release), relative to its back-catalogue
    level 1: nothing before release, a rise to ``1 + RELEASE_BOOST`` over ``RISE_DAYS``,
    then an exponential decay with time constant ``decay_days`` back towards 1."""
    ramp = np.clip(age_days / RISE_DAYS, 0.0, 1.0)
    fade = np.exp(-np.maximum(age_days - RISE_DAYS, 0.0) / decay_days)
    return np.where(age_days >= 0, 1.0 + RELEASE_BOOST * ramp * fade, 0.0)


@dataclass(frozen=True, eq=False)
class SyntheticCatalogue:
    """A simulated catalogue and viewing history with known ground truth.

    Titles belong to latent clusters ("micro-genres", invisible in the metadata), each inside
    one labelled genre; some titles carry a second genre label. Members' tastes are sparse
    over clusters (Dirichlet), so genre labels explain part of what they watch and co-viewing
    the rest. Every title has a release date and a lifecycle (``lifecycle``): its interest
    rises after release and decays back to its back-catalogue level. Each play is either
    taste-driven (with probability ``1 - novelty`` of the member: a cluster from their taste,
    tilted towards genres in season, then a title of it by popularity x current interest) or
    follows what is popular now (a title of the whole catalogue by popularity x current
    interest x its genre's season). Some plays stop part-way; most are resumed later.
    Content vectors are a title's genre and cluster directions plus noise.

    Attributes:
        titles: the catalogue.
        log: every play, oldest first (members ``user_ids``, titles in ``titles`` order).
        content: L2-normalised content vector per title.
        cluster: each title's cluster.
        popularity: latent popularity per title.
        release: release time per title, seconds since the epoch.
        taste: members x clusters, each row summing to 1.
        now: the end of the simulated period.
        decay: each title's decay time in days (``lifecycle``).
        novelty: each member's share of plays that follow what is popular now.
    """

    titles: tuple[Title, ...]
    log: InteractionLog
    content: NDArray[np.float32]
    cluster: NDArray[np.int64]
    popularity: NDArray[np.float64]
    release: NDArray[np.float64]
    taste: NDArray[np.float64]
    now: datetime
    decay: NDArray[np.float64]
    novelty: NDArray[np.float64]

    def content_vectors(self) -> dict[str, NDArray[np.float32]]:
        """Content vectors by title id (as ``artwork.ranking.content.title_vectors`` gives)."""
        return {t.title_id: self.content[i] for i, t in enumerate(self.titles)}

    def ranking_data(
        self, log: InteractionLog | None = None, now: datetime | None = None
    ) -> RankingData:
        """A ranking snapshot of (part of) the history, with content vectors."""
        return RankingData(
            titles={t.title_id: t for t in self.titles},
            interactions=self.log if log is None else log,
            now=now or self.now,
            content=self.content_vectors(),
        )

    def appeal(
        self, user: int, titles: NDArray[np.integer], at: datetime | None = None
    ) -> NDArray[np.float64]:
        """How much member ``user`` likes each title at ``at`` (default ``now``), in [0, 1]:
        their taste for its cluster relative to their favourite cluster, mixed by their
        ``novelty`` with how popular it is then relative to the most popular title."""
        taste = self.taste[user]
        liked = taste[self.cluster[titles]] / taste.max()
        hot = self.interest_at(at or self.now)
        return (1.0 - self.novelty[user]) * liked + self.novelty[user] * hot[titles]

    @property
    def current_interest(self) -> NDArray[np.float64]:
        """``interest_at(now)``."""
        return self.interest_at(self.now)

    def interest_at(self, moment: datetime) -> NDArray[np.float64]:
        """Popularity x lifecycle interest of every title at ``moment``, scaled to max 1."""
        key = moment.timestamp()
        last = self._interest
        if key not in last:  # one moment kept: pages are built for one moment at a time
            age = (key - self.release) / _DAY
            value = self.popularity * lifecycle(age, self.decay)
            last.clear()
            last[key] = value / max(float(value.max(initial=0.0)), 1e-12)
        return last[key]

    @cached_property
    def _interest(self) -> dict[float, NDArray[np.float64]]:
        return {}


def simulate_catalogue(
    *,
    titles: int = 10_000,
    users: int = 100_000,
    interactions: int = 1_000_000,
    genres: int = 24,
    clusters: int | None = None,
    days: float = 60.0,
    now: datetime | None = None,
    seed: int = 0,
    finish_rate: float = 0.6,
    resume_rate: float = 0.6,
    popularity_sigma: float = 1.2,
    new_title_share: float = 0.2,
    content_dims: int = 32,
    content_noise: float = 0.5,
    novelty_mean: float = NOVELTY_MEAN,
    seasonal_genres: int = SEASONAL_GENRES,
) -> SyntheticCatalogue:
    """A synthetic catalogue and about ``interactions`` plays, vectorised (seconds at 1M plays).

    Args:
        titles: catalogue size.
        users: members (``member-000000`` ...); how active each is varies (log-normal).
        interactions: first plays drawn; resumed plays come on top, later ones than ``now``
            are dropped, so the log holds roughly this many.
        genres: labelled genres (named after ``GENRE_NAMES`` while they last).
        clusters: latent micro-genres; default: about one per 50 titles, at least ``genres``.
        days: length of the simulated period before ``now``.
        now: end of the period (default: 2026-06-01 UTC).
        seed: RNG seed; the same arguments give the same catalogue.
        finish_rate: probability that a first play reaches the end.
        resume_rate: probability that an unfinished play is resumed later.
        popularity_sigma: spread of the log-normal title popularity (long tail).
        new_title_share: share of titles released during the period.
        content_dims: width of the content vectors.
        content_noise: how far content vectors stray from their genre and cluster.
        novelty_mean: members' mean share of plays that follow what is popular now (0: every
            play follows the member's tastes).
        seasonal_genres: genres that have a season during the period.

    Raises:
        ValueError: an argument is out of range (named in the message).
    """
    n_clusters = clusters if clusters is not None else max(genres, titles // 50)
    for name, value in (
        ("titles", titles),
        ("users", users),
        ("interactions", interactions),
        ("genres", genres),
        ("clusters", n_clusters),
        ("content_dims", content_dims),
    ):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    for name, rate in (
        ("finish_rate", finish_rate),
        ("resume_rate", resume_rate),
        ("new_title_share", new_title_share),
        ("novelty_mean", novelty_mean),
    ):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {rate}")
    if days <= 0:
        raise ValueError(f"days must be > 0, got {days}")
    if seasonal_genres < 0:
        raise ValueError(f"seasonal_genres must be >= 0, got {seasonal_genres}")
    now = now or datetime(2026, 6, 1, tzinfo=UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = np.random.default_rng(seed)
    end = now.timestamp()
    names = tuple(GENRE_NAMES[g] if g < len(GENRE_NAMES) else f"genre-{g}" for g in range(genres))

    # Clusters inside genres (some genres bigger); titles in clusters; a second genre label.
    sizes = 1.0 / np.arange(1, genres + 1) ** 0.6
    cluster_genre = np.concatenate(
        [
            np.arange(min(genres, n_clusters)),
            rng.choice(genres, size=max(0, n_clusters - genres), p=sizes / sizes.sum()),
        ]
    )
    cluster = np.concatenate(
        [
            np.arange(min(titles, n_clusters)),
            rng.integers(n_clusters, size=max(0, titles - n_clusters)),
        ]
    )
    cluster = rng.permutation(cluster)
    primary = cluster_genre[cluster]
    secondary = (primary + rng.integers(1, max(2, genres), size=titles)) % genres
    has_second = (rng.random(titles) < 0.3) & (genres > 1)
    labels = np.zeros((titles, genres), dtype=bool)
    labels[np.arange(titles), primary] = True
    labels[np.flatnonzero(has_second), secondary[has_second]] = True
    popularity = rng.lognormal(0.0, popularity_sigma, size=titles)
    is_new = rng.random(titles) < new_title_share
    release = np.where(
        is_new,
        end - rng.uniform(0.0, days, size=titles) * _DAY,
        end - (days + rng.uniform(0.0, 730.0, size=titles)) * _DAY,
    )
    duration = np.round(rng.uniform(20.0, 150.0, size=titles) * 60.0)
    width = max(5, len(str(titles - 1)))
    catalogue = tuple(
        Title(
            f"title-{i:0{width}d}",
            f"{names[primary[i]].title()} {i}",
            tuple(names[g] for g in np.flatnonzero(labels[i])),
            float(duration[i]),
            datetime.fromtimestamp(float(release[i]), tz=UTC),
        )
        for i in range(titles)
    )

    # Members: sparse tastes over clusters, log-normal activity.
    taste = rng.dirichlet(np.full(n_clusters, 0.05), size=users)
    activity = rng.lognormal(0.0, 1.0, size=users)
    first_plays = max(1, round(interactions / (1.0 + (1.0 - finish_rate) * resume_rate)))
    user = rng.choice(users, size=first_plays, p=activity / activity.sum())
    when = end - rng.uniform(0.0, days, size=first_plays) * _DAY
    n_days = max(1, int(np.ceil(days)))
    day = np.minimum(((when - (end - days * _DAY)) // _DAY).astype(np.int64), n_days - 1)
    decay = DECAY_DAYS * rng.lognormal(0.0, DECAY_SPREAD, size=titles)
    k = NOVELTY_CONCENTRATION
    novelty = (
        rng.beta(novelty_mean * k, (1.0 - novelty_mean) * k, size=users)
        if 0.0 < novelty_mean < 1.0
        else np.full(users, novelty_mean)
    )
    season = _seasons(rng, n_days, genres, seasonal_genres)  # days x genres
    day_start = end - days * _DAY + np.arange(n_days, dtype=np.float64) * _DAY
    follows = rng.random(first_plays) < novelty[user]
    title = np.empty(first_plays, dtype=np.int64)
    own = ~follows
    chosen_cluster = _draw_categories(rng, taste, user[own], season[:, cluster_genre], day[own])
    title[own] = _draw_titles(
        rng, cluster, popularity, release, decay, day_start, day[own], chosen_cluster
    )
    # What is popular now: one "cluster" holding every title, weighted by its genre's season.
    title[follows] = _draw_titles(
        rng,
        np.zeros(titles, dtype=np.int64),
        popularity,
        release,
        decay,
        day_start,
        day[follows],
        np.zeros(int(follows.sum()), dtype=np.int64),
        season[:, primary],
    )

    # Watch time, and later resumptions of unfinished plays.
    finished = rng.random(first_plays) < finish_rate
    fraction = np.where(finished, 1.0, rng.uniform(0.05, 0.85, size=first_plays))
    resumed = ~finished & (rng.random(first_plays) < resume_rate)
    later = when[resumed] + rng.exponential(1.5 * _DAY, size=int(resumed.sum()))
    keep = later <= end
    again = title[resumed][keep]
    log = InteractionLog.from_arrays(
        tuple(f"member-{u:0{max(6, len(str(users - 1)))}d}" for u in range(users)),
        tuple(t.title_id for t in catalogue),
        np.concatenate([user, user[resumed][keep]]),
        np.concatenate([title, again]),
        np.concatenate([when, later[keep]]),
        np.round(
            np.concatenate(
                [fraction * duration[title], (1.0 - fraction[resumed][keep]) * duration[again]]
            ),
            1,
        ),
        np.concatenate([duration[title], duration[again]]),
    )

    def directions(n: int) -> NDArray[np.float64]:
        vectors = rng.normal(size=(n, content_dims))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    content = (
        directions(genres)[primary]
        + 0.7 * directions(n_clusters)[cluster]
        + content_noise * rng.normal(size=(titles, content_dims)) / np.sqrt(content_dims)
    )
    content /= np.linalg.norm(content, axis=1, keepdims=True)
    return SyntheticCatalogue(
        titles=catalogue,
        log=log,
        content=content.astype(np.float32),
        cluster=cluster.astype(np.int64),
        popularity=popularity,
        release=release,
        taste=taste,
        now=now,
        decay=decay,
        novelty=novelty,
    )


def _seasons(
    rng: np.random.Generator, n_days: int, genres: int, seasonal: int
) -> NDArray[np.float64]:
    """Days x genres interest multipliers: ``seasonal`` genres get a Gaussian bump of up to
    ``SEASON_BOOST`` extra, ``SEASON_DAYS`` wide, centred on a random day; the rest stay 1."""
    season = np.ones((n_days, genres))
    chosen = rng.choice(genres, size=min(seasonal, genres), replace=False)
    centre = rng.uniform(0.0, n_days, size=len(chosen))
    days = np.arange(n_days) + 0.5
    for g, c in zip(chosen, centre, strict=True):
        season[:, g] += SEASON_BOOST * np.exp(-0.5 * ((days - c) / SEASON_DAYS) ** 2)
    return season


def _draw_categories(
    rng: np.random.Generator,
    weights: NDArray[np.float64],
    user: NDArray[np.integer],
    tilt: NDArray[np.float64] | None = None,
    day: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """One category per play from its member's weights, times ``tilt`` (days x categories)
    on the play's ``day`` when given (inverse CDF, chunked for memory)."""
    chosen = np.empty(len(user), dtype=np.int64)
    step = max(1, 8_000_000 // weights.shape[1])
    plain = np.cumsum(weights, axis=1).astype(np.float32) if tilt is None or day is None else None
    for start in range(0, len(user), step):
        part = user[start : start + step]
        if plain is not None:
            cumulative = plain[part]
        else:
            assert tilt is not None and day is not None
            tilted = (
                weights[part].astype(np.float32)
                * tilt.astype(np.float32)[day[start : start + len(part)]]
            )
            cumulative = np.cumsum(tilted, axis=1)
            cumulative /= np.maximum(cumulative[:, -1:], 1e-300)
        u = rng.random(len(part), dtype=np.float32)
        chosen[start : start + len(part)] = (cumulative < u[:, None]).sum(axis=1)
    return np.minimum(chosen, weights.shape[1] - 1)


def _draw_titles(
    rng: np.random.Generator,
    cluster: NDArray[np.integer],
    popularity: NDArray[np.float64],
    release: NDArray[np.float64],
    decay: NDArray[np.float64],
    day_start: NDArray[np.float64],
    day: NDArray[np.int64],
    chosen: NDArray[np.int64],
    season: NDArray[np.float64] | None = None,
) -> NDArray[np.int64]:
    """One title per play given its day and cluster: popularity x lifecycle interest on that
    day (x the title's ``season`` on that day, days x titles, when given).

    Every (day, cluster) pair has a CDF over the cluster's titles; the CDFs are concatenated
    with the pair's number added, so one ``searchsorted`` draws every play at once.
    """
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64)
    n_days = len(day_start)
    n_clusters = int(cluster.max()) + 1
    by_cluster = np.argsort(cluster, kind="stable")
    bounds = np.searchsorted(cluster[by_cluster], np.arange(n_clusters + 1))
    keys: list[NDArray[np.float64]] = []
    members: list[NDArray[np.int64]] = []
    for c in range(n_clusters):
        inside = by_cluster[bounds[c] : bounds[c + 1]]
        if len(inside) == 0:
            inside = by_cluster[:1]
        age = (day_start[:, None] - release[None, inside]) / _DAY  # days x titles
        weights = lifecycle(age, decay[None, inside]) * popularity[inside]
        if season is not None:
            weights = weights * season[:, inside]
        weights = np.where(weights.sum(axis=1, keepdims=True) > 0, weights, 1.0)
        cdf = np.cumsum(weights, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        keys.append((cdf + (np.arange(n_days) * n_clusters + c)[:, None]).ravel())
        members.append(np.tile(inside, n_days))
    key = np.concatenate(keys)
    title_of = np.concatenate(members)
    order = np.argsort(key, kind="stable")
    key, title_of = key[order], title_of[order]
    target = day * n_clusters + chosen + rng.random(len(day)) * (1.0 - 1e-9)
    return title_of[np.minimum(np.searchsorted(key, target, side="right"), len(key) - 1)]

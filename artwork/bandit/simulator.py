"""A simulated artwork world with known ground truth, for benchmarks, demos and tests.

Members have latent tastes over what images show (tags such as ``close-up face``,
``landscape``, ``explosion``) and over faces (some are drawn to large faces, some put off);
titles have variants whose tags, face scores, quality scores and embeddings follow from what the
image shows. The true probability that member ``m`` takes (plays, and keeps watching) title ``t``
shown with variant ``v`` is::

    logit p = b_t + taste_weight * sum_tag conf_v(tag) * theta_m(tag)
                  + face_weight * phi_m * z_v + quality_weight * (q_v - 0.65)
                  + device_weight * [device is mobile] * z_v

with ``b_t`` the title's appeal, ``theta_m`` the member's tag taste, ``phi_m`` their face taste,
``z_v = 3 (face_area_v - 0.2)`` and ``q_v`` the variant's mean quality. Members show the bandit
only what a service would know: country, device, time, and a profile of genre and tag
affinities from their history, a noisy view of ``theta_m`` and ``phi_m``. Rewards arrive after
an exponential delay, so some miss the reward wait window.

:meth:`ArtworkWorld.best_single` (the best image per title over all members) and
:meth:`ArtworkWorld.oracle` (the best image per member and title) are the references;
:func:`run_online` drives any strategy through a stream of visits, and
:func:`run_contextual` drives the real service (``ArtworkBandit`` + ``Learner`` on a database,
simulated clock, delayed rewards), and :func:`simulate` runs them all side by side (``artwork
simulate``; the benchmark in ``artwork.bench.bandit`` builds on it).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.features import action_features, shared_features
from artwork.bandit.learner import Learner
from artwork.config import Settings
from artwork.domain import Context, Decision, MemberProfile, Variant, VariantStatus
from artwork.errors import RewardWindowClosedError

TAGS: tuple[str, ...] = (
    "close-up face",
    "group",
    "landscape",
    "explosion",
    "dark",
    "bright",
    "text",
    "animal",
    "vehicle",
    "romance",
    "smile",
    "silhouette",
)
GENRES: tuple[str, ...] = (
    "drama",
    "comedy",
    "action",
    "documentary",
    "animation",
    "thriller",
    "romance",
    "sci-fi",
)
DEVICES: tuple[str, ...] = ("tv", "mobile", "web", "tablet")
COUNTRIES: tuple[str, ...] = ("us", "gb", "de", "fr", "br", "jp", "in", "nl")
START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
"""When simulated time begins (a Monday evening)."""

_FACE_TAG = TAGS.index("close-up face")
_GROUP_TAG = TAGS.index("group")


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """The simulated world's size and how strongly taste shapes takes.

    Raises:
        ValueError: A size is < 1 or a rate is out of range (named in the message).
    """

    members: int = 2000
    titles: int = 100
    variants: int = 8
    tags_per_variant: int = 2
    base_take: float = 0.08
    taste_weight: float = 1.2
    face_weight: float = 0.8
    quality_weight: float = 2.0
    device_weight: float = 0.4
    profile_noise: float = 0.15
    embedding_dims: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("members", "titles", "variants", "tags_per_variant", "embedding_dims"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.tags_per_variant > len(TAGS):
            raise ValueError(f"tags_per_variant must be <= {len(TAGS)}")
        if not 0.0 < self.base_take < 1.0:
            raise ValueError(f"base_take must be in (0, 1), got {self.base_take}")
        if self.profile_noise < 0:
            raise ValueError(f"profile_noise must be >= 0, got {self.profile_noise}")


@dataclass(frozen=True, slots=True)
class Visit:
    """A member opening a page of titles at a moment."""

    member: int
    titles: tuple[int, ...]
    when: datetime


@dataclass
class OnlineRun:
    """Per decision: the true take probability of what was shown, and of the oracle's choice."""

    name: str
    shown: list[float] = field(default_factory=list)
    best: list[float] = field(default_factory=list)
    takes: int = 0
    late_rewards: int = 0

    @property
    def take_fraction(self) -> float:
        """Expected takes per decision over the run."""
        return float(np.mean(self.shown)) if self.shown else math.nan

    def take_fraction_last(self, count: int) -> float:
        """Expected takes per decision over the last ``count`` decisions."""
        return float(np.mean(self.shown[-count:])) if self.shown else math.nan

    def regret(self) -> NDArray[np.float64]:
        """Cumulative expected regret against the oracle, per decision."""
        return np.cumsum(np.asarray(self.best) - np.asarray(self.shown))


class ArtworkWorld:
    """Members, titles and variants with known take probabilities.

    Args:
        config: Sizes, weights and seed; the same config gives the same world.
    """

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = cfg = config or WorldConfig()
        rng = np.random.default_rng([cfg.seed, 1])
        tag_count = len(TAGS)
        # Members: latent tag taste (a few loved, a few disliked tags) and face taste.
        theta = rng.normal(0.0, 0.3, size=(cfg.members, tag_count))
        for m in range(cfg.members):
            picks = rng.choice(tag_count, size=5, replace=False)
            theta[m, picks[:3]] += 1.5
            theta[m, picks[3:]] -= 1.2
        self.theta = theta
        self.face_taste = rng.normal(0.0, 1.0, size=cfg.members)
        self.devices = rng.integers(0, len(DEVICES), size=cfg.members)
        self.countries = rng.integers(0, len(COUNTRIES), size=cfg.members)
        genre_taste = rng.dirichlet(np.full(len(GENRES), 0.6), size=cfg.members)
        # What the service sees: a noisy profile of the latent taste.
        seen = theta.copy()
        seen[:, _FACE_TAG] += self.face_taste
        seen += rng.normal(0.0, cfg.profile_noise, size=seen.shape)
        self.profiles = []
        for m in range(cfg.members):
            # Affinities from history: positive for what they take, negative for what they skip.
            scale = float(np.abs(seen[m]).max()) or 1.0
            affinity = {TAGS[i]: round(float(seen[m, i] / scale), 3) for i in range(tag_count)}
            genres = {
                GENRES[i]: round(float(genre_taste[m, i]), 4)
                for i in np.argsort(-genre_taste[m])[:3]
            }
            self.profiles.append(MemberProfile(genres=genres, tags=affinity))
        # Titles and their variants.
        self.title_ids = [f"title-{t:04d}" for t in range(cfg.titles)]
        appeal = math.log(cfg.base_take / (1 - cfg.base_take))
        self.appeal = rng.normal(appeal, 0.5, size=cfg.titles)
        tag_embedding = rng.normal(0.0, 1.0, size=(tag_count, cfg.embedding_dims))
        self.variants: dict[str, list[Variant]] = {}
        confidences = np.zeros((cfg.titles, cfg.variants, tag_count))
        zfaces = np.zeros((cfg.titles, cfg.variants))
        quality = np.zeros((cfg.titles, cfg.variants))
        for t, title_id in enumerate(self.title_ids):
            built = []
            for v in range(cfg.variants):
                picked = rng.choice(tag_count, size=cfg.tags_per_variant, replace=False)
                conf = rng.uniform(0.6, 1.0, size=len(picked))
                confidences[t, v, picked] = conf
                if _FACE_TAG in picked:
                    count, area = 1, rng.uniform(0.3, 0.6)
                elif _GROUP_TAG in picked:
                    count = int(rng.integers(3, 6))
                    area = rng.uniform(0.05, 0.15)
                else:
                    count = int(rng.poisson(0.3))
                    area = 0.02 * count
                scores = {
                    "sharpness": float(rng.uniform(0.3, 1.0)),
                    "exposure": float(rng.uniform(0.3, 1.0)),
                    "contrast": float(rng.uniform(0.3, 1.0)),
                    "colourfulness": float(rng.uniform(0.3, 1.0)),
                }
                quality[t, v] = float(np.mean(list(scores.values())))
                zfaces[t, v] = 3.0 * (area - 0.2)
                scores |= {"face_count": float(count), "face_area": round(float(area), 4)}
                embedding = confidences[t, v] @ tag_embedding + rng.normal(
                    0.0, 0.5, size=cfg.embedding_dims
                )
                embedding /= np.linalg.norm(embedding)
                built.append(
                    Variant(
                        variant_id=f"{title_id}-v{v}",
                        title_id=title_id,
                        rank=v,
                        frame_time_s=float(v),
                        score=round(quality[t, v], 4),
                        scores={k: round(x, 4) for k, x in scores.items()},
                        tags={
                            TAGS[i]: round(float(c), 3) for i, c in zip(picked, conf, strict=True)
                        },
                        embedder="simulated",
                        image_path=f"{title_id}/v{v}.jpg",
                        width=320,
                        height=180,
                        status=VariantStatus.APPROVED,
                        embedding=embedding.astype(np.float32),
                    )
                )
            self.variants[title_id] = built
        mobile = (np.asarray(DEVICES)[self.devices] == "mobile").astype(float)
        logit = (
            self.appeal[None, :, None]
            + cfg.taste_weight * np.einsum("mk,tvk->mtv", theta, confidences)
            + cfg.face_weight * self.face_taste[:, None, None] * zfaces[None, :, :]
            + cfg.quality_weight * (quality[None, :, :] - 0.65)
            + cfg.device_weight * mobile[:, None, None] * zfaces[None, :, :]
        )
        self.probabilities: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-logit))
        self._title_index = {title_id: t for t, title_id in enumerate(self.title_ids)}
        self._member_index = {self.member_id(m): m for m in range(cfg.members)}

    # --- who and what -----------------------------------------------------------------------------
    @staticmethod
    def member_id(member: int) -> str:
        """The user id of member number ``member``."""
        return f"member-{member:05d}"

    def member_of(self, user_id: str) -> int:
        """The member number of a user id."""
        return self._member_index[user_id]

    def title_of(self, title_id: str) -> int:
        """The title number of a title id."""
        return self._title_index[title_id]

    def context(self, member: int, when: datetime) -> Context:
        """What the service knows about a visit: member, device, country, time, profile."""
        return Context(
            user_id=self.member_id(member),
            device=DEVICES[int(self.devices[member])],
            hour=when.hour,
            weekday=when.weekday(),
            country=COUNTRIES[int(self.countries[member])],
            profile=self.profiles[member],
        )

    def policy_value(self, pi: NDArray[np.float64]) -> float:
        """The true mean take probability per decision of a policy, over uniform members and
        titles (the distribution :meth:`visits` draws from).

        Args:
            pi: The policy's probabilities, shape ``(members, titles, variants)``.

        Raises:
            ValueError: ``pi`` has the wrong shape.
        """
        if pi.shape != self.probabilities.shape:
            raise ValueError(f"pi must have shape {self.probabilities.shape}, got {pi.shape}")
        return float((pi * self.probabilities).sum(axis=2).mean())

    def softmax_policy(
        self, temperature: float, uniform_share: float, noise: float = 0.0, seed: int = 0
    ) -> NDArray[np.float64]:
        """A non-uniform logging policy: a softmax over (noisy) true take probabilities, mixed
        with ``uniform_share`` uniform exploration so every variant keeps some probability.

        Args:
            temperature: Softmax temperature on the take probabilities (> 0; small is greedy).
            uniform_share: Share of uniform exploration, in [0, 1].
            noise: Standard deviation of Gaussian noise added to the probabilities first.
            seed: Seed of the noise.

        Returns:
            Probabilities of shape ``(members, titles, variants)``.

        Raises:
            ValueError: ``temperature`` <= 0 or ``uniform_share`` not in [0, 1].
        """
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if not 0.0 <= uniform_share <= 1.0:
            raise ValueError(f"uniform_share must be in [0, 1], got {uniform_share}")
        rng = np.random.default_rng([seed, 9])
        seen = self.probabilities + rng.normal(0.0, noise, size=self.probabilities.shape)
        logits = seen / temperature
        weights = np.exp(logits - logits.max(axis=2, keepdims=True))
        softmax = weights / weights.sum(axis=2, keepdims=True)
        count = self.config.variants
        return np.asarray((1.0 - uniform_share) * softmax + uniform_share / count)

    def best_single(self) -> NDArray[np.intp]:
        """Per title, the variant with the highest take probability over all members."""
        return np.asarray(self.probabilities.mean(axis=0).argmax(axis=1))

    def oracle(self) -> NDArray[np.intp]:
        """Per member and title, the variant with the highest take probability."""
        return np.asarray(self.probabilities.argmax(axis=2))

    def visits(self, count: int, page_size: int, seed: int, every_s: float) -> Iterator[Visit]:
        """``count`` page views: uniform members, ``page_size`` distinct titles each.

        Args:
            count: Visits.
            page_size: Titles per page.
            seed: RNG seed; the same seed gives the same visits.
            every_s: Simulated seconds between visits.

        Raises:
            ValueError: ``page_size`` is not in 1..titles, or ``every_s`` <= 0.
        """
        if not 1 <= page_size <= self.config.titles:
            raise ValueError(f"page_size must be in 1..{self.config.titles}, got {page_size}")
        if every_s <= 0:
            raise ValueError(f"every_s must be > 0, got {every_s}")
        rng = np.random.default_rng([seed, 2])
        for n in range(count):
            member = int(rng.integers(self.config.members))
            titles = tuple(int(t) for t in rng.choice(self.config.titles, page_size, replace=False))
            yield Visit(member, titles, START + timedelta(seconds=n * every_s))


Strategy = Callable[[Visit], Sequence[int]]
"""Chooses a variant index per title of a visit."""


def run_online(
    world: ArtworkWorld,
    name: str,
    strategy: Strategy,
    visits: Sequence[Visit],
    seed: int = 0,
) -> OnlineRun:
    """Drive a fixed strategy through the visits, recording expected takes and regret."""
    rng = np.random.default_rng([seed, 3])
    oracle = world.oracle()
    run = OnlineRun(name)
    for visit in visits:
        for title, choice in zip(visit.titles, strategy(visit), strict=True):
            p = world.probabilities[visit.member, title]
            run.shown.append(float(p[choice]))
            run.best.append(float(p[oracle[visit.member, title]]))
            run.takes += int(rng.random() < p[choice])
    return run


def uniform_strategy(world: ArtworkWorld, seed: int = 0) -> Strategy:
    """Each variant with equal probability."""
    rng = np.random.default_rng([seed, 4])
    count = world.config.variants
    return lambda visit: [int(rng.integers(count)) for _ in visit.titles]


def best_single_strategy(world: ArtworkWorld) -> Strategy:
    """The best image per title for everyone (the non-personalised ceiling)."""
    best = world.best_single()
    return lambda visit: [int(best[t]) for t in visit.titles]


def oracle_strategy(world: ArtworkWorld) -> Strategy:
    """The best image per member and title."""
    oracle = world.oracle()
    return lambda visit: [int(oracle[visit.member, t]) for t in visit.titles]


@dataclass
class ContextualRun:
    """A run of the real service: its online record, and the bandit and learner afterwards."""

    run: OnlineRun
    bandit: ArtworkBandit
    learner: Learner
    rewards_recorded: int


def run_contextual(
    world: ArtworkWorld,
    visits: Sequence[Visit],
    settings: Settings,
    database_url: str,
    *,
    reward_delay_s: float = 120.0,
    seed: int = 0,
    drain: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ContextualRun:
    """Drive the real bandit service through the visits, on a simulated clock.

    Each page is chosen with ``ArtworkBandit.choose_many`` (consistency, cold start, one
    transaction per page); a take is posted as reward 1.0 after an exponential delay (late ones
    are refused by the service and get the default reward); the ``Learner`` steps every
    ``learn_interval_s`` simulated seconds and the bandit hot-swaps to its snapshots.

    Args:
        world: The simulated world.
        visits: Page views, in time order.
        settings: The service's settings (exploration, windows, snapshot cadence, ...).
        database_url: A fresh database for the decision log (e.g. a temporary SQLite file).
        reward_delay_s: Mean delay of rewards, in simulated seconds.
        seed: Seed of the bandit's draws and of the simulated takes.
        drain: After the last visit, let simulated time run until every reward window has
            closed and learn everything, so the model has learned from every decision.
        progress: Called with the number of decisions made, after every visit.

    Raises:
        ValueError: ``reward_delay_s`` < 0.
        StorageError: The database failed.
    """
    from artwork.catalog.database import create_database_engine

    if reward_delay_s < 0:
        raise ValueError(f"reward_delay_s must be >= 0, got {reward_delay_s}")
    clock = _SimClock(visits[0].when if visits else START)
    engine = create_database_engine(database_url)
    bandit = ArtworkBandit(engine, settings, rng=np.random.default_rng([seed, 5]), clock=clock.now)

    def swap(_version: int) -> None:
        bandit.refresh()

    learner = Learner(engine, settings, clock=clock.now, on_snapshot=swap)
    rng = np.random.default_rng([seed, 6])
    oracle = world.oracle()
    run = OnlineRun("contextual")
    due: list[tuple[datetime, int, str]] = []
    learn_every = timedelta(seconds=settings.learn_interval_s)
    next_learn = clock.time + learn_every
    recorded = made = 0
    for visit in visits:
        clock.time = visit.when
        while due and due[0][0] <= clock.time:
            when, _, event_id = heapq.heappop(due)
            saved, clock.time = clock.time, when
            try:
                recorded += bandit.reward(event_id, 1.0).recorded
            except RewardWindowClosedError:
                run.late_rewards += 1
            clock.time = saved
        while clock.time >= next_learn:
            learner.step()
            next_learn += learn_every
        requests = [(world.title_ids[t], world.variants[world.title_ids[t]]) for t in visit.titles]
        decisions = bandit.choose_many(world.context(visit.member, clock.time), requests)
        for title, decision in zip(visit.titles, decisions, strict=True):
            p = world.probabilities[visit.member, title]
            run.shown.append(float(p[decision.chosen_index]))
            run.best.append(float(p[oracle[visit.member, title]]))
            if rng.random() < p[decision.chosen_index]:
                run.takes += 1
                delay = timedelta(seconds=float(rng.exponential(reward_delay_s)))
                heapq.heappush(due, (clock.time + delay, made, decision.event_id))
            made += 1
        if progress is not None:
            progress(made)
    if drain:
        while due:
            clock.time, _, event_id = heapq.heappop(due)
            try:
                recorded += bandit.reward(event_id, 1.0).recorded
            except RewardWindowClosedError:
                run.late_rewards += 1
        clock.time += timedelta(seconds=settings.reward_wait_s + 2 * settings.commit_grace_s + 1)
        learner.catch_up()
    else:
        learner.step()
        learner.flush()
    bandit.refresh()
    return ContextualRun(run, bandit, learner, recorded)


def exploit_take_fractions(
    world: ArtworkWorld, bandit: ArtworkBandit | None, samples: int = 5000, seed: int = 0
) -> dict[str, float]:
    """True take fractions on fresh (member, title) pairs of each policy, exploiting.

    Args:
        world: The simulated world.
        bandit: A bandit whose serving model is scored by its most likely variant (no
            exploration); None leaves ``contextual`` out.
        samples: Fresh pairs, shared by every policy.
        seed: RNG seed of the pairs.

    Returns:
        ``{"random", "best_single", "contextual", "oracle"}``: expected takes per decision.
    """
    rng = np.random.default_rng([seed, 7])
    members = rng.integers(world.config.members, size=samples)
    titles = rng.integers(world.config.titles, size=samples)
    p = world.probabilities[members, titles]  # (samples, variants)
    best = world.best_single()[titles]
    result = {
        "random": float(p.mean()),
        "best_single": float(p[np.arange(samples), best].mean()),
    }
    if bandit is not None:
        policy = bandit.policy
        features = {
            title_id: [action_features(v) for v in variants]
            for title_id, variants in world.variants.items()
        }
        total = 0.0
        for row, (member, title) in enumerate(zip(members, titles, strict=True)):
            title_id = world.title_ids[int(title)]
            pmf = policy.pmf(
                shared_features(world.context(int(member), START)),
                features[title_id],
                [v.variant_id for v in world.variants[title_id]],
            )
            total += float(p[row, pmf.index(max(pmf))])
        result["contextual"] = total / samples
    result["oracle"] = float(p.max(axis=1).mean())
    return result


def uniform_log(
    world: ArtworkWorld, visits: Sequence[Visit], seed: int = 0
) -> list[tuple[Decision, float]]:
    """A log of uniformly random exploration over the visits, with sampled rewards (0 or 1).

    The kind of log Netflix evaluates target policies on by replay.
    """
    rng = np.random.default_rng([seed, 8])
    count = world.config.variants
    uniform = (1.0 / count,) * count

    def draw(_member: int, _title: int) -> tuple[int, tuple[float, ...]]:
        return int(rng.integers(count)), uniform

    return _sampled_log(world, visits, rng, draw, {"name": "uniform", "exploration": "uniform"})


def policy_log(
    world: ArtworkWorld,
    visits: Sequence[Visit],
    logging: NDArray[np.float64],
    seed: int = 0,
    name: str = "simulated",
) -> list[tuple[Decision, float]]:
    """A log of a stochastic logging policy over the visits, with sampled rewards (0 or 1).

    Each decision records the logging policy's whole distribution (as the service logs it),
    so off-policy estimates can be checked against :meth:`ArtworkWorld.policy_value`.

    Args:
        world: The simulated world.
        visits: Page views.
        logging: The logging policy's probabilities, shape ``(members, titles, variants)``
            (for example :meth:`ArtworkWorld.softmax_policy`).
        seed: Seed of the draws and of the rewards.
        name: The policy name recorded with each decision.

    Raises:
        ValueError: ``logging`` has the wrong shape.
    """
    if logging.shape != world.probabilities.shape:
        raise ValueError(
            f"logging must have shape {world.probabilities.shape}, got {logging.shape}"
        )
    rng = np.random.default_rng([seed, 10])

    def draw(member: int, title: int) -> tuple[int, tuple[float, ...]]:
        pmf = logging[member, title]
        chosen = int(np.searchsorted(np.cumsum(pmf), rng.random() * pmf.sum(), side="right"))
        return min(chosen, len(pmf) - 1), tuple(float(p) for p in pmf)

    return _sampled_log(world, visits, rng, draw, {"name": name})


def _sampled_log(
    world: ArtworkWorld,
    visits: Sequence[Visit],
    rng: np.random.Generator,
    draw: Callable[[int, int], tuple[int, tuple[float, ...]]],
    policy: dict[str, str],
) -> list[tuple[Decision, float]]:
    """One decision per title of each visit: ``draw(member, title)`` gives the chosen variant
    and the logged distribution, then the reward is sampled from the world's take probability
    (with ``rng``, after the draw's own use of it)."""
    features = {
        title_id: tuple(action_features(v) for v in variants)
        for title_id, variants in world.variants.items()
    }
    log: list[tuple[Decision, float]] = []
    for visit in visits:
        context = world.context(visit.member, visit.when)
        shared = shared_features(context)
        for title in visit.titles:
            title_id = world.title_ids[title]
            chosen, probabilities = draw(visit.member, title)
            take = float(rng.random() < world.probabilities[visit.member, title, chosen])
            decision = Decision(
                event_id=f"sim-{len(log):08d}",
                created_at=visit.when,
                user_id=context.user_id,
                title_id=title_id,
                context=shared,
                action_ids=tuple(v.variant_id for v in world.variants[title_id]),
                action_features=features[title_id],
                probabilities=probabilities,
                chosen_index=chosen,
                model_version=0,
                policy=dict(policy),
            )
            log.append((decision, take))
    return log


POLICIES: tuple[str, ...] = ("random", "best_single", "contextual", "oracle")
VISIT_EVERY_S = 0.25
"""Simulated seconds between page views (5 titles a page: 20 decisions a second)."""


@dataclass
class Simulation:
    """An online simulation: the world, each policy's run, and the bandit afterwards."""

    world: ArtworkWorld
    runs: dict[str, OnlineRun]
    bandit: ArtworkBandit
    take_fraction: dict[str, float]
    rewards: int
    late_rewards: int

    def summary(self) -> dict[str, Any]:
        """JSON-ready: ``decisions``, ``take_fraction`` (after the run, exploiting, on fresh
        visits), ``online`` (mean over the run) and ``online_last`` (its last fifth),
        ``rewards``, ``late_rewards`` and ``model_version``."""
        count = len(self.runs["random"].shown)
        last = max(1, count // 5)
        return {
            "decisions": count,
            "take_fraction": {name: self.take_fraction[name] for name in POLICIES},
            "online": {name: self.runs[name].take_fraction for name in POLICIES},
            "online_last": {name: self.runs[name].take_fraction_last(last) for name in POLICIES},
            "rewards": self.rewards,
            "late_rewards": self.late_rewards,
            "model_version": self.bandit.model_version,
        }


def simulate(
    config: WorldConfig,
    settings: Settings,
    database_url: str,
    *,
    decisions: int,
    page_size: int = 5,
    reward_delay_s: float = 120.0,
    seed: int = 0,
) -> Simulation:
    """Run the world online: random, best single image, the bandit service, the oracle.

    Args:
        config: The world.
        settings: The bandit service's settings.
        database_url: A fresh database the bandit logs to.
        decisions: Artwork decisions to simulate (rounded down to whole pages).
        page_size: Titles per page view.
        reward_delay_s: Mean delay of rewards.
        seed: Seed of visits, draws and takes.

    Raises:
        ValueError: ``decisions`` < ``page_size``, or a bad world or page size.
        StorageError: The database failed.
    """
    if decisions < page_size:
        raise ValueError(f"decisions must be >= page_size ({page_size}), got {decisions}")
    world = ArtworkWorld(config)
    visits = list(world.visits(decisions // page_size, page_size, seed, VISIT_EVERY_S))
    runs: dict[str, OnlineRun] = {
        "random": run_online(world, "random", uniform_strategy(world, seed), visits, seed),
        "best_single": run_online(world, "best_single", best_single_strategy(world), visits, seed),
        "oracle": run_online(world, "oracle", oracle_strategy(world), visits, seed),
    }
    contextual = run_contextual(
        world, visits, settings, database_url, reward_delay_s=reward_delay_s, seed=seed
    )
    runs["contextual"] = contextual.run
    return Simulation(
        world=world,
        runs=runs,
        bandit=contextual.bandit,
        take_fraction=exploit_take_fractions(world, contextual.bandit, seed=seed),
        rewards=contextual.rewards_recorded,
        late_rewards=contextual.run.late_rewards,
    )


class _SimClock:
    def __init__(self, start: datetime) -> None:
        self.time = start

    def now(self) -> datetime:
        return self.time

"""Read-only queries behind the web pages: review state, per-variant performance, the policy's
learning curve, exploration, reward-join lag and the off-policy evaluation of the live log.

Every read the pages make of the catalogue and the decision log is here, so a change to how
decisions are stored is adapted in one place. A decision is a *take* when its reward is > 0.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from artwork.bandit.log import DecisionLog, LoggedEvent
from artwork.catalog.repository import Catalog
from artwork.catalog.schema import decisions, interactions, rewards, variants
from artwork.config import Settings
from artwork.domain import Decision, VariantStatus
from artwork.errors import StorageError

WILSON_Z = 1.959963984540054
"""The normal quantile of a two-sided 95% interval."""

OPE_POLICIES: tuple[str, ...] = ("logged", "current", "baseline", "uniform")
"""The target policies ``artwork evaluate`` compares by default."""


@dataclass(frozen=True, slots=True)
class TitleReview:
    """One title's editorial state, as the editor list shows it."""

    title_id: str
    name: str
    genres: tuple[str, ...]
    proposed: int
    approved: int
    rejected: int

    @property
    def extraction(self) -> str:
        """``extracted`` once variants exist, else ``no variants``."""
        total = self.proposed + self.approved + self.rejected
        return "extracted" if total else "no variants"


@dataclass(frozen=True, slots=True)
class Rate:
    """A take fraction with its 95% Wilson interval."""

    takes: int
    trials: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.takes / self.trials if self.trials else math.nan


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Take fraction of the decisions of one series in one time bucket."""

    start: datetime
    rate: Rate


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """What the policy page shows about the log."""

    decisions: int
    rewarded: int
    pending: int
    curves: Mapping[str, tuple[CurvePoint, ...]]
    exploration: tuple[tuple[datetime, float], ...]
    explored_share: float
    lags_s: tuple[float, ...]
    reward_wait_s: float


def wilson(takes: int, trials: int, z: float = WILSON_Z) -> Rate:
    """The Wilson score interval of ``takes`` successes in ``trials``.

    Raises:
        ValueError: ``takes`` is negative or more than ``trials``.
    """
    if not 0 <= takes <= trials:
        raise ValueError(f"takes must be in 0..trials ({trials}), got {takes}")
    if trials == 0:
        return Rate(0, 0, 0.0, 1.0)
    p = takes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Rate(takes, trials, max(0.0, centre - spread), min(1.0, centre + spread))


def review_states(catalog: Catalog, query: str = "") -> list[TitleReview]:
    """Every title (whose id or name contains ``query``, case-blind) with its variant counts."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    statement = select(variants.c.title_id, variants.c.status, func.count()).group_by(
        variants.c.title_id, variants.c.status
    )
    try:
        with catalog.engine.connect() as conn:
            for title_id, status, count in conn.execute(statement):
                counts[title_id][status] += int(count)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot count variants: {exc}") from exc
    needle = query.strip().casefold()
    found = []
    for title in catalog.list_titles():
        if (
            needle
            and needle not in title.title_id.casefold()
            and needle not in title.name.casefold()
        ):
            continue
        c = counts.get(title.title_id, Counter())
        found.append(
            TitleReview(
                title.title_id,
                title.name,
                title.genres,
                c[VariantStatus.PROPOSED.value],
                c[VariantStatus.APPROVED.value],
                c[VariantStatus.REJECTED.value],
            )
        )
    return found


def members(catalog: Catalog, limit: int = 50) -> list[str]:
    """Members with the most plays first, for the homepage's member picker."""
    statement = (
        select(interactions.c.user_id, func.count().label("plays"))
        .group_by(interactions.c.user_id)
        .order_by(func.count().desc(), interactions.c.user_id)
        .limit(limit)
    )
    try:
        with catalog.engine.connect() as conn:
            return [str(row.user_id) for row in conn.execute(statement)]
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot list members: {exc}") from exc


def variant_performance(log: DecisionLog, title_id: str) -> dict[str, Rate]:
    """Impressions and takes of each of a title's variants that has been shown.

    Impressions come from the log's per-variant counts, takes from its positive rewards.

    Raises:
        StorageError: The database failed.
    """
    shown = log.counts.shown(title_id)
    taken = log.takes(title_id)
    # Takes outnumber the counted impressions only where decisions went uncounted (logged by
    # a process of an older version while this one counted the log): capped, not refused.
    return {v: wilson(min(taken.get(v, 0), n), n) for v, n in shown.items()}


def recent_events(log: DecisionLog, limit: int = 20_000) -> list[LoggedEvent]:
    """The newest ``limit`` logged decisions, oldest first, with their rewards."""
    after = max(0, _max_seq(log.engine) - limit)
    return list(log.iter_events(after=after))


def _max_seq(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.max(decisions.c.seq))) or 0)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the decision log: {exc}") from exc


def policy_label(decision: Decision) -> str:
    """The policy a decision was made under: its mode and, when learning, the policy's name."""
    policy = decision.policy
    mode = str(policy.get("mode", "bandit"))
    name = str(policy.get("name", ""))
    return mode if mode == "apprentice" or not name else f"{mode}/{name}"


def version_bands(versions: Sequence[int], most: int = 4) -> list[tuple[int, int]]:
    """Split model versions (one per decision) into at most ``most`` contiguous ranges holding
    about as many decisions each.

    The learner makes a new version with every event it learns, so a curve per version would
    have a point each; a curve per band shows how the model did as it grew.

    Raises:
        ValueError: ``most`` < 1.
    """
    if most < 1:
        raise ValueError(f"most must be >= 1, got {most}")
    counts = Counter(versions)
    distinct = sorted(counts)
    if not distinct:
        return []
    share = len(versions) / most
    bands: list[tuple[int, int]] = []
    start, held = distinct[0], 0
    for index, version in enumerate(distinct):
        held += counts[version]
        last = index == len(distinct) - 1
        if last or (held >= share and len(bands) < most - 1):
            bands.append((start, version))
            if not last:
                start, held = distinct[index + 1], 0
    return bands


def _band_label(version: int, bands: Sequence[tuple[int, int]]) -> str:
    for low, high in bands:
        if low <= version <= high:
            return f"v{low}" if low == high else f"v{low}-{high}"
    return f"v{version}"


def summarize(
    events: Sequence[LoggedEvent], settings: Settings, now: datetime, buckets: int = 12
) -> PolicySummary:
    """Learning curves, exploration and reward lag of ``events`` (in log order).

    One curve per policy and band of model versions (:func:`version_bands`).

    A decision with no reward counts as a miss once its wait window has closed and is left out
    while it is pending, as the learner and ``artwork evaluate`` treat it.

    Args:
        events: Logged decisions, oldest first.
        settings: ``reward_wait_s``.
        now: The time pending windows are judged at.
        buckets: Time buckets of the learning curve and the exploration plot.

    Raises:
        ValueError: ``buckets`` < 1.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    closed_before = now - timedelta(seconds=settings.reward_wait_s)
    resolved = [e for e in events if e.reward is not None or e.decision.created_at <= closed_before]
    lags = tuple(
        max(0.0, (e.reward.received_at - e.decision.created_at).total_seconds())
        for e in events
        if e.reward is not None
    )
    explored = [_explored(e.decision) for e in events]
    edges = _bucket_edges([e.decision.created_at for e in events], buckets)
    trials: dict[str, Counter[int]] = defaultdict(Counter)
    takes: dict[str, Counter[int]] = defaultdict(Counter)
    versions: dict[str, list[int]] = defaultdict(list)
    for event in resolved:
        versions[policy_label(event.decision)].append(event.decision.model_version)
    bands = {label: version_bands(found) for label, found in versions.items()}
    for event in resolved:
        bucket = _bucket(event.decision.created_at, edges)
        label = policy_label(event.decision)
        name = f"{label} {_band_label(event.decision.model_version, bands[label])}"
        trials[name][bucket] += 1
        if event.reward is not None and event.reward.value > 0:
            takes[name][bucket] += 1
    curves = {
        name: tuple(
            CurvePoint(edges[b], wilson(takes[name][b], n)) for b, n in sorted(counts.items())
        )
        for name, counts in sorted(trials.items(), key=lambda item: (min(item[1]), item[0]))
    }
    by_bucket: dict[int, list[bool]] = defaultdict(list)
    for event, flag in zip(events, explored, strict=True):
        by_bucket[_bucket(event.decision.created_at, edges)].append(flag)
    exploration = tuple(
        (edges[b], sum(flags) / len(flags)) for b, flags in sorted(by_bucket.items())
    )
    return PolicySummary(
        decisions=len(events),
        rewarded=len(lags),
        pending=len(events) - len(resolved),
        curves=curves,
        exploration=exploration,
        explored_share=sum(explored) / len(explored) if explored else math.nan,
        lags_s=lags,
        reward_wait_s=settings.reward_wait_s,
    )


def _explored(decision: Decision) -> bool:
    """Whether the shown variant was not the one the final distribution favoured most."""
    best = max(decision.probabilities)
    return decision.chosen_probability < best - 1e-12


def _bucket_edges(times: Iterable[datetime], buckets: int) -> list[datetime]:
    ordered = sorted(times)
    if not ordered:
        return []
    first, last = ordered[0], ordered[-1]
    width = (last - first) / buckets
    if width <= timedelta(0):
        return [first]
    return [first + width * i for i in range(buckets)]


def _bucket(moment: datetime, edges: Sequence[datetime]) -> int:
    index = 0
    for i, edge in enumerate(edges):
        if moment >= edge:
            index = i
    return index


OffPolicyRows = tuple[list[dict[str, object]], int, int, str | None]
_OPE_CACHE: dict[tuple[str, str, int, int, int], OffPolicyRows] = {}
_OPE_CACHE_LOCK = threading.Lock()
_OPE_CACHE_SIZE = 8


def off_policy(log: DecisionLog, settings: Settings, now: datetime) -> OffPolicyRows:
    """The off-policy evaluation ``artwork evaluate`` prints (default policies, 95% normal
    intervals, no warm-up), as JSON-ready rows.

    Replaying the whole log trains a model per target policy, so the answer is kept until the log
    changes: a new decision, a new reward, or a reward window that closed.

    Returns:
        ``(rows, events, pending, reason)``: ``reason`` says why there are no rows.
    """
    from artwork.bandit.ope.evaluate import evaluate, resolved_events
    from artwork.bandit.ope.report import as_json
    from artwork.bandit.ope.specs import parse_target

    closed_before = now - timedelta(seconds=settings.reward_wait_s)
    key = (settings.model_dump_json(), *_log_state(log.engine, closed_before))
    with _OPE_CACHE_LOCK:
        cached = _OPE_CACHE.get(key)
    if cached is not None:
        return cached
    events, pending = resolved_events(log, settings, now)
    answer: OffPolicyRows
    if not events:
        reason = "no resolved decisions yet: rewards or closed windows come first"
        answer = ([], 0, pending, reason)
    else:
        targets = [parse_target(spec, settings) for spec in OPE_POLICIES]
        try:
            answer = (as_json(evaluate(events, targets)), len(events), pending, None)
        except ValueError as exc:
            answer = ([], len(events), pending, str(exc))
    with _OPE_CACHE_LOCK:
        if len(_OPE_CACHE) >= _OPE_CACHE_SIZE:
            _OPE_CACHE.clear()
        _OPE_CACHE[key] = answer
    return answer


def _log_state(engine: Engine, closed_before: datetime) -> tuple[str, int, int, int]:
    """What the evaluation depends on: newest decision, rewards, decisions past their window."""
    try:
        with engine.connect() as conn:
            newest = conn.scalar(select(func.max(decisions.c.seq))) or 0
            rewarded = conn.scalar(select(func.count()).select_from(rewards)) or 0
            closed = (
                conn.scalar(
                    select(func.count())
                    .select_from(decisions)
                    .where(decisions.c.created_at <= closed_before)
                )
                or 0
            )
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the decision log: {exc}") from exc
    return (
        engine.url.render_as_string(hide_password=True),
        int(newest),
        int(rewarded),
        int(closed),
    )


def top_features(
    decision: Decision, limit: int = 6, skip: Iterable[str] = ("embedding",)
) -> list[tuple[str, float, float]]:
    """The chosen variant's features that set it apart from the title's other variants.

    Each is ``(namespace:name, value, value minus the mean of the other variants)``, largest
    difference first; with a single variant, largest value first. Namespaces in ``skip`` (the
    embedding projection, which means nothing to a reader) are left out.
    """
    skipped = set(skip)
    chosen = decision.action_features[decision.chosen_index]
    others = [f for i, f in enumerate(decision.action_features) if i != decision.chosen_index]
    rows = []
    for space, values in chosen.items():
        if space in skipped:
            continue
        for name, value in values.items():
            mean = (
                sum(float(o.get(space, {}).get(name, 0.0)) for o in others) / len(others)
                if others
                else 0.0
            )
            rows.append((f"{space}:{name}", float(value), float(value) - mean))
    rows.sort(key=lambda r: (-abs(r[2]), -abs(r[1]), r[0]))
    return rows[:limit]

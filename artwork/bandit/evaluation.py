"""Off-policy evaluation: what a candidate policy would have earned, estimated from the log.

Every logged decision holds the probability ``mu(a)`` its shown variant ``a`` was drawn with and
the reward ``r`` it earned (or the default reward once its wait window closed). A candidate
policy ``pi`` is replayed over the log in order: for each event it gives its distribution
``pi(.)`` *before* learning from that event (progressive validation, as Personalizer's offline
evaluation does), then learns from it. With importance weights ``w = pi(a) / mu(a)``:

- **replay** (Li et al., 2011): draw an action from ``pi`` for each event (seeded); the mean
  reward over events where it is the logged one. Unbiased only when the log explored uniformly
  at random.
- **IPS**: ``mean(w * r)``. Unbiased whenever ``mu > 0`` wherever ``pi > 0``.
- **SNIPS**: ``sum(w * r) / sum(w)``: biased but far less variable.
- **DR** (doubly robust): ``mean(sum_a pi(a) q(a) + w * (r - q(a)))`` with ``q`` a reward model
  (VW ``--cb_adf``) also trained progressively on the log.

Confidence intervals are normal (CLT; delta method for SNIPS) or, with ``bootstrap > 0``,
percentile bootstrap over events. ``ess = (sum w)^2 / sum w^2`` is the effective sample size:
how many on-policy events the estimate is worth. ``unsupported`` is the mean probability ``pi``
puts on variants the logging policy never showed (``mu = 0``); IPS, SNIPS and DR ignore that
mass, so estimates with ``unsupported > 0`` are biased: logs of a deterministic baseline
(apprentice mode without ``ARTWORK_APPRENTICE_EPSILON``) can evaluate only the baseline itself.

Candidates are named by a spec string: ``logged``, ``uniform``, ``baseline``,
``apprentice:epsilon=0.05``, ``current`` (the configured policy), or an exploration with
parameters, e.g. ``softmax:lambda=5``, ``epsilon_greedy:epsilon=0.05``, ``bag:size=5``,
``cover:size=4,psi=0.5``, ``squarecb:gamma_scale=20``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from artwork.bandit.base import ArtworkPolicy, policy_class_for
from artwork.bandit.log import DecisionLog, LoggedEvent
from artwork.bandit.vw_policy import ExampleCache, vw_policy_for
from artwork.config import Settings
from artwork.domain import Decision

ESTIMATORS: tuple[str, ...] = ("replay", "ips", "snips", "dr")
"""Estimators in the order they are reported."""

_PARAMETER_SETTINGS: Mapping[str, str] = {
    "epsilon": "epsilon",
    "lambda": "softmax_lambda",
    "gamma_scale": "squarecb_gamma_scale",
    "gamma_exponent": "squarecb_gamma_exponent",
    "bits": "bandit_bits",
}
_SIZE_SETTINGS: Mapping[str, str] = {"bag": "bag_size", "cover": "cover_size"}


@dataclass(frozen=True, slots=True)
class Event:
    """One resolved logged decision: what was shown with which probabilities, and its reward."""

    decision: Decision
    reward: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class PolicyEvaluation:
    """The estimates of one candidate policy over the evaluated events."""

    name: str
    estimates: Mapping[str, Estimate]
    events: int
    ess: float
    replay_matches: int
    unsupported: float


class Candidate(Protocol):
    """A policy under evaluation: its distribution for an event, then learning from it."""

    name: str

    def pmf(self, decision: Decision) -> Sequence[float]:
        """The candidate's probability for each of the decision's actions."""

    def learn(self, decision: Decision, reward: float) -> None:
        """Learn from the logged event (after :meth:`pmf` was asked about it)."""


class LoggedCandidate:
    """The logging policy itself: on-policy, so every estimator gives the mean reward."""

    def __init__(self, name: str = "logged") -> None:
        self.name = name

    def pmf(self, decision: Decision) -> Sequence[float]:
        return decision.probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        return None


class FixedCandidate:
    """The editorial default (rank 0) mixed with ``epsilon`` uniform; ``epsilon=1`` is uniform.

    Args:
        name: Label in reports.
        epsilon: Uniform share, in [0, 1].

    Raises:
        ValueError: ``epsilon`` is out of range.
    """

    def __init__(self, name: str, epsilon: float) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.name = name
        self._epsilon = epsilon

    def pmf(self, decision: Decision) -> Sequence[float]:
        count = len(decision.action_ids)
        probabilities = [self._epsilon / count] * count
        probabilities[0] += 1.0 - self._epsilon
        return probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        return None


class PolicyCandidate:
    """A registered policy, fresh, trained progressively on the log as it is evaluated."""

    def __init__(self, name: str, policy: ArtworkPolicy) -> None:
        self.name = name
        self.policy = policy

    def pmf(self, decision: Decision) -> Sequence[float]:
        return self.policy.pmf(decision.context, decision.action_features, decision.action_ids)

    def learn(self, decision: Decision, reward: float) -> None:
        self.policy.learn(decision, reward)


def parse_candidate(spec: str, settings: Settings) -> Candidate:
    """The candidate a spec names (see the module docstring).

    Args:
        spec: ``name[:key=value,...]``.
        settings: Defaults for whatever the spec does not set.

    Raises:
        ValueError: Unknown name or parameter, or a bad value (named in the message).
    """
    name, _, arguments = spec.strip().partition(":")
    params: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in arguments.split(","))):
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"policy spec {spec!r}: {item!r} is not key=value")
        try:
            params[key.strip()] = float(raw)
        except ValueError:
            raise ValueError(f"policy spec {spec!r}: {key.strip()} must be a number") from None
    if name == "logged":
        _no_params(spec, params)
        return LoggedCandidate(spec)
    if name == "uniform":
        _no_params(spec, params)
        return FixedCandidate(spec, 1.0)
    if name in ("baseline", "apprentice"):
        unknown = sorted(set(params) - {"epsilon"})
        if unknown:
            raise ValueError(f"policy spec {spec!r}: unknown parameter(s) {unknown}")
        return FixedCandidate(spec, params.get("epsilon", 0.0))
    if name == "current":
        _no_params(spec, params)
        return PolicyCandidate(spec, policy_class_for(settings).from_settings(settings))
    cls = vw_policy_for(name)  # ValueError for unknown names
    update: dict[str, Any] = {"exploration": name}
    for key, value in params.items():
        if key == "size" and name in _SIZE_SETTINGS:
            update[_SIZE_SETTINGS[name]] = int(value)
        elif key == "psi" and name == "cover":
            update["cover_psi"] = value
        elif key in _PARAMETER_SETTINGS:
            update[_PARAMETER_SETTINGS[key]] = int(value) if key == "bits" else value
        else:
            raise ValueError(f"policy spec {spec!r}: unknown parameter {key!r}")
    configured = Settings.model_validate(settings.model_dump() | update)
    return PolicyCandidate(spec, cls.from_settings(configured))


def _no_params(spec: str, params: Mapping[str, float]) -> None:
    if params:
        raise ValueError(f"policy spec {spec!r} takes no parameters, got {sorted(params)}")


def resolved_events(log: DecisionLog, settings: Settings, now: datetime) -> tuple[list[Event], int]:
    """The log's events that have a reward, or whose window closed (default reward), in order.

    Args:
        log: The decision log.
        settings: ``reward_wait_s``, ``default_reward``.
        now: The evaluation time.

    Returns:
        The events, and how many decisions are still pending (left out).

    Raises:
        StorageError: The database failed.
    """
    return events_from(log.iter_events(), settings, now)


def events_from(
    logged: Iterable[LoggedEvent], settings: Settings, now: datetime
) -> tuple[list[Event], int]:
    """As :func:`resolved_events`, from already-read logged events."""
    closed_before = now - timedelta(seconds=settings.reward_wait_s)
    events: list[Event] = []
    pending = 0
    for item in logged:
        if item.reward is not None:
            events.append(Event(item.decision, item.reward.value))
        elif item.decision.created_at <= closed_before:
            events.append(Event(item.decision, settings.default_reward))
        else:
            pending += 1
    return events, pending


class RewardModel:
    """Progressively trained reward estimate per action (VW ``--cb_adf``), for DR."""

    def __init__(self, bits: int = 18) -> None:
        import vowpal_wabbit_next as vw

        from artwork.bandit.features import DEFAULT_INTERACTIONS, interaction_args

        args = ["--cb_adf", "--quiet", "-b", str(bits), *interaction_args(DEFAULT_INTERACTIONS)]
        self._workspace = vw.Workspace(args)
        self._cache = ExampleCache(vw.TextFormatParser(self._workspace))

    def predict(self, decision: Decision) -> list[float]:
        """Estimated reward of each action (negated predicted cost)."""
        examples = self._cache.examples(
            decision.context, decision.action_features, decision.action_ids
        )
        scores: Any = self._workspace.predict_one(examples)
        rewards = [0.0] * len(decision.action_ids)
        for index, cost in scores:
            rewards[index] = -float(cost)
        return rewards

    def learn(self, decision: Decision, reward: float) -> None:
        from artwork.bandit.features import ChosenLabel

        label = ChosenLabel(decision.chosen_index, -reward, decision.chosen_probability)
        self._workspace.learn_one(
            self._cache.examples(
                decision.context, decision.action_features, decision.action_ids, label
            )
        )


def evaluate(
    events: Sequence[Event],
    candidates: Sequence[Candidate],
    *,
    warmup: int = 0,
    confidence: float = 0.95,
    bootstrap: int = 0,
    seed: int = 0,
) -> list[PolicyEvaluation]:
    """Estimate each candidate's mean reward on the logged events.

    Args:
        events: Resolved events in log order.
        candidates: Policies to evaluate; each learns from every event after it is scored.
        warmup: The first ``warmup`` events are only learned from, not scored.
        confidence: Confidence level of the intervals, in (0, 1).
        bootstrap: Bootstrap resamples for the intervals; 0 uses normal intervals.
        seed: Seed of the replay draws and of the bootstrap.

    Returns:
        One evaluation per candidate, in the order given.

    Raises:
        ValueError: ``confidence`` not in (0, 1), ``warmup`` or ``bootstrap`` negative, or
            no event is left to score.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if warmup < 0 or bootstrap < 0:
        raise ValueError(f"warmup and bootstrap must be >= 0, got {warmup} and {bootstrap}")
    scored = len(events) - warmup
    if scored < 1:
        raise ValueError(
            f"no event to evaluate: {len(events)} resolved events, warmup {warmup}; "
            "log decisions (and wait for rewards or their window) first"
        )
    weights = np.zeros((len(candidates), scored))
    direct = np.zeros((len(candidates), scored))
    matches = np.zeros((len(candidates), scored), dtype=bool)
    unsupported = np.zeros((len(candidates), scored))
    rewards = np.zeros(scored)
    q_logged = np.zeros(scored)
    model = RewardModel()
    draws = np.random.default_rng([seed, 1]).random((len(candidates), scored))
    for position, event in enumerate(events):
        decision, reward = event.decision, event.reward
        row = position - warmup
        if row >= 0:
            q = model.predict(decision)
            chosen = decision.chosen_index
            mu = decision.probabilities
            rewards[row] = reward
            q_logged[row] = q[chosen]
            for c, candidate in enumerate(candidates):
                pi = candidate.pmf(decision)
                weights[c, row] = pi[chosen] / mu[chosen]
                direct[c, row] = math.fsum(p * value for p, value in zip(pi, q, strict=True))
                matches[c, row] = _draw(pi, float(draws[c, row])) == chosen
                unsupported[c, row] = math.fsum(p for p, m in zip(pi, mu, strict=True) if m <= 0.0)
        model.learn(decision, reward)
        for candidate in candidates:
            candidate.learn(decision, reward)
    z = _normal_quantile(0.5 + confidence / 2.0)
    rng = np.random.default_rng([seed, 2])
    results = []
    for c, candidate in enumerate(candidates):
        w = weights[c]
        estimates = _estimates(w, rewards, direct[c], q_logged, matches[c], z)
        if bootstrap:
            estimates = _bootstrap(
                estimates, w, rewards, direct[c], q_logged, matches[c], confidence, bootstrap, rng
            )
        total = float(w.sum())
        squares = float((w**2).sum())
        results.append(
            PolicyEvaluation(
                name=candidate.name,
                estimates=estimates,
                events=scored,
                ess=total * total / squares if squares > 0 else 0.0,
                replay_matches=int(matches[c].sum()),
                unsupported=float(unsupported[c].mean()),
            )
        )
    return results


def _draw(pi: Sequence[float], u: float) -> int:
    """The action whose cumulative probability interval holds ``u`` (in [0, 1))."""
    total = math.fsum(pi)
    cumulative = 0.0
    for index, p in enumerate(pi):
        cumulative += p / total
        if u < cumulative:
            return index
    return max(i for i, p in enumerate(pi) if p > 0)


def _point(
    w: NDArray[np.float64],
    r: NDArray[np.float64],
    direct: NDArray[np.float64],
    q_logged: NDArray[np.float64],
    matched: NDArray[np.bool_],
) -> dict[str, float]:
    total = float(w.sum())
    count = int(matched.sum())
    return {
        "replay": float(r[matched].mean()) if count else math.nan,
        "ips": float((w * r).mean()),
        "snips": float((w * r).sum() / total) if total > 0 else math.nan,
        "dr": float((direct + w * (r - q_logged)).mean()),
    }


def _estimates(
    w: NDArray[np.float64],
    r: NDArray[np.float64],
    direct: NDArray[np.float64],
    q_logged: NDArray[np.float64],
    matched: NDArray[np.bool_],
    z: float,
) -> dict[str, Estimate]:
    point = _point(w, r, direct, q_logged, matched)
    n = len(r)
    spreads: dict[str, float] = {}
    count = int(matched.sum())
    spreads["replay"] = float(r[matched].std(ddof=1) / math.sqrt(count)) if count > 1 else math.nan
    spreads["ips"] = float((w * r).std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    total = float(w.sum())
    if total > 0 and n > 1:
        residual = w * (r - point["snips"])
        spreads["snips"] = float(math.sqrt(float((residual**2).sum())) / total)
    else:
        spreads["snips"] = math.nan
    terms = direct + w * (r - q_logged)
    spreads["dr"] = float(terms.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return {
        name: Estimate(value, value - z * spreads[name], value + z * spreads[name])
        for name, value in point.items()
    }


def _bootstrap(
    estimates: Mapping[str, Estimate],
    w: NDArray[np.float64],
    r: NDArray[np.float64],
    direct: NDArray[np.float64],
    q_logged: NDArray[np.float64],
    matched: NDArray[np.bool_],
    confidence: float,
    resamples: int,
    rng: np.random.Generator,
) -> dict[str, Estimate]:
    n = len(r)
    draws: dict[str, list[float]] = {name: [] for name in ESTIMATORS}
    for _ in range(resamples):
        index = rng.integers(0, n, size=n)
        point = _point(w[index], r[index], direct[index], q_logged[index], matched[index])
        for name in ESTIMATORS:
            draws[name].append(point[name])
    tail = (1.0 - confidence) / 2.0 * 100.0
    bounded = {}
    for name in ESTIMATORS:
        values = np.asarray([v for v in draws[name] if math.isfinite(v)])
        if values.size == 0:
            bounded[name] = replace(estimates[name], low=math.nan, high=math.nan)
            continue
        low, high = np.percentile(values, [tail, 100.0 - tail])
        bounded[name] = replace(estimates[name], low=float(low), high=float(high))
    return bounded


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


def format_table(results: Sequence[PolicyEvaluation]) -> str:
    """A plain-text table: one row per candidate, each estimator with its interval."""
    header = f"{'policy':<28}" + "".join(f"{name:>24}" for name in ESTIMATORS)
    header += f"{'ess':>10}{'matches':>9}{'unsupp.':>9}"
    lines = [header, "-" * len(header)]
    for result in results:
        cells = []
        for name in ESTIMATORS:
            e = result.estimates[name]
            cells.append(
                f"{'n/a':>24}"
                if math.isnan(e.value)
                else f"{e.value:>8.4f} [{e.low:.4f}, {e.high:.4f}]".rjust(24)
            )
        lines.append(
            f"{result.name[:27]:<28}"
            + "".join(cells)
            + f"{result.ess:>10.1f}{result.replay_matches:>9d}{result.unsupported:>9.3f}"
        )
    return "\n".join(lines)


def as_json(results: Sequence[PolicyEvaluation]) -> list[dict[str, Any]]:
    """The evaluations as JSON-ready dicts (NaN becomes None)."""

    def number(value: float) -> float | None:
        return None if math.isnan(value) else value

    return [
        {
            "policy": r.name,
            "events": r.events,
            "ess": r.ess,
            "replay_matches": r.replay_matches,
            "unsupported": r.unsupported,
            "estimates": {
                name: {"value": number(e.value), "low": number(e.low), "high": number(e.high)}
                for name, e in r.estimates.items()
            },
        }
        for r in results
    ]


def plot(results: Sequence[PolicyEvaluation], path: Path, *, title: str = "") -> Path:
    """Write a PNG: each candidate's estimates with their confidence intervals.

    Args:
        results: Evaluations to draw.
        path: Where the PNG goes (its folder is created).
        title: Figure title.

    Returns:
        ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 1.2 + 0.7 * len(results)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    offsets = np.linspace(-0.27, 0.27, len(ESTIMATORS))
    for offset, name in zip(offsets, ESTIMATORS, strict=True):
        ys, xs, lows, highs = [], [], [], []
        for row, result in enumerate(results):
            e = result.estimates[name]
            if math.isnan(e.value):
                continue
            ys.append(row + offset)
            xs.append(e.value)
            lows.append(e.value - e.low if math.isfinite(e.low) else 0.0)
            highs.append(e.high - e.value if math.isfinite(e.high) else 0.0)
        axes.errorbar(xs, ys, xerr=[lows, highs], fmt="o", capsize=3, label=name)
    axes.set_yticks(range(len(results)), [r.name for r in results])
    axes.invert_yaxis()
    axes.set_xlabel("estimated mean reward per decision")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path

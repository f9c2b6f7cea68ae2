"""Target policies for off-policy evaluation, named by spec strings.

A spec is ``name[:key=value,...]``. Each name declares its parameters, and a spec may set any
of them (and nothing else); the VW policies declare exactly the parameters their classes take
(``VWPolicy.all_params()``: ``learning_rate``, ``clip_p`` and the exploration's own) plus the
hash ``bits``, with defaults from the settings.

- ``logged``: the logging policy itself (on-policy: ``w = 1``); no parameters.
- ``uniform``: every variant alike; no parameters.
- ``baseline``, ``apprentice``: the editorial default (position 0) mixed with ``epsilon``
  (default 0) uniform.
- ``always``: always one variant, ``variant=ID`` or ``rank=R`` (position ``R`` in editorial
  order, 0 first); the editorial default where the title has no such variant.
- ``current``: the configured exploration (``ARTWORK_EXPLORATION``), trained progressively.
- ``epsilon_greedy``, ``softmax``, ``squarecb``, ``bag``, ``cover``: that VW policy, trained
  progressively.

Examples: ``epsilon_greedy:learning_rate=0.1,epsilon=0.05``, ``softmax:lambda=5``,
``always:variant=t1-v3``, ``always:rank=1``, ``cover:size=4,psi=0.5,bits=20``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from artwork.bandit.base import ArtworkPolicy
from artwork.bandit.config import PolicySettings
from artwork.bandit.vw_policy import VW_POLICIES, VWPolicy, configured_interactions, vw_policy_for
from artwork.config import Settings
from artwork.domain import Decision


class TargetPolicy(Protocol):
    """A policy under evaluation: its distribution for an event, then learning from it."""

    name: str

    def pmf(self, decision: Decision) -> Sequence[float]:
        """The target's probability for each of the decision's actions (action order)."""

    def learn(self, decision: Decision, reward: float) -> None:
        """Learn from the logged event (after :meth:`pmf` was asked about it)."""


class LoggedTarget:
    """The logging policy itself: its recorded distribution, and on-policy (``w = 1``)."""

    def __init__(self, name: str = "logged") -> None:
        self.name = name

    def pmf(self, decision: Decision) -> Sequence[float]:
        return decision.probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        return None


class FixedTarget:
    """The editorial default (position 0) mixed with ``epsilon`` uniform; 1 is uniform.

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


class AlwaysTarget:
    """Always one variant: by id, or by position in editorial order.

    Where the title has no such variant, the editorial default (position 0) stands in;
    ``fallbacks`` counts those events.

    Args:
        name: Label in reports.
        variant: The variant id to show, or None.
        rank: The position to show (0 is the editorial default), or None.

    Raises:
        ValueError: Not exactly one of ``variant`` and ``rank`` given, or ``rank`` < 0.
    """

    def __init__(self, name: str, *, variant: str | None = None, rank: int | None = None) -> None:
        if (variant is None) == (rank is None):
            raise ValueError("give exactly one of variant and rank")
        if rank is not None and rank < 0:
            raise ValueError(f"rank must be >= 0, got {rank}")
        self.name = name
        self.variant = variant
        self.rank = rank
        self.fallbacks = 0

    def pmf(self, decision: Decision) -> Sequence[float]:
        count = len(decision.action_ids)
        if self.variant is not None and self.variant in decision.action_ids:
            index = decision.action_ids.index(self.variant)
        elif self.rank is not None and self.rank < count:
            index = self.rank
        else:
            index = 0
            self.fallbacks += 1
        probabilities = [0.0] * count
        probabilities[index] = 1.0
        return probabilities

    def learn(self, decision: Decision, reward: float) -> None:
        return None


class LearningTarget:
    """A registered policy, fresh, trained progressively on the log as it is evaluated."""

    def __init__(self, name: str, policy: ArtworkPolicy) -> None:
        self.name = name
        self.policy = policy

    def pmf(self, decision: Decision) -> Sequence[float]:
        return self.policy.pmf(decision.context, decision.action_features, decision.action_ids)

    def learn(self, decision: Decision, reward: float) -> None:
        self.policy.learn(decision, reward)


Builder = Callable[[str, Mapping[str, str], Settings], TargetPolicy]


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One spec name: what it is, the parameters it declares, and how to build it."""

    name: str
    summary: str
    parameters: tuple[str, ...]
    build: Builder


def _logged(spec: str, params: Mapping[str, str], settings: Settings) -> TargetPolicy:
    return LoggedTarget(spec)


def _uniform(spec: str, params: Mapping[str, str], settings: Settings) -> TargetPolicy:
    return FixedTarget(spec, 1.0)


def _baseline(spec: str, params: Mapping[str, str], settings: Settings) -> TargetPolicy:
    epsilon = _number(spec, "epsilon", params["epsilon"]) if "epsilon" in params else 0.0
    return FixedTarget(spec, epsilon)


def _always(spec: str, params: Mapping[str, str], settings: Settings) -> TargetPolicy:
    if len(params) != 1:
        raise ValueError(f"policy spec {spec!r}: give exactly one of variant=ID and rank=R")
    if "variant" in params:
        return AlwaysTarget(spec, variant=params["variant"])
    rank = _number(spec, "rank", params["rank"])
    if not rank.is_integer():
        raise ValueError(f"policy spec {spec!r}: rank must be an integer >= 0, got {rank}")
    return AlwaysTarget(spec, rank=int(rank))


def _vw_builder(cls: type[VWPolicy] | None) -> Builder:
    """Build ``cls`` (None: the configured exploration's class) from settings and the spec."""

    def build(spec: str, params: Mapping[str, str], settings: Settings) -> TargetPolicy:
        policy_cls = cls if cls is not None else vw_policy_for(settings.exploration)
        declared = {p.name: p for p in policy_cls.all_params()}
        unknown = sorted(set(params) - set(declared) - {"bits"})
        if unknown:  # "current" declares every VW parameter; its class may take fewer
            raise ValueError(
                f"policy spec {spec!r}: {policy_cls.exploration} takes no parameter(s) "
                f"{unknown}; it takes {', '.join([*declared, 'bits'])}"
            )
        defaults = PolicySettings.from_settings(settings)
        values: dict[str, Any] = {p.name: float(p.read(defaults)) for p in declared.values()}
        bits = defaults.bits
        for key, raw in params.items():
            number = _number(spec, key, raw)
            if key == "bits":
                if not number.is_integer() or not 1 <= number <= 30:
                    raise ValueError(f"policy spec {spec!r}: bits must be an integer in 1..30")
                bits = int(number)
                continue
            try:
                values[key] = declared[key].check(number)
            except ValueError as exc:
                raise ValueError(f"policy spec {spec!r}: {exc}") from None
        policy = policy_cls(bits=bits, interactions=configured_interactions(settings), **values)
        return LearningTarget(spec, policy)

    return build


def _vw_parameters(classes: Sequence[type[VWPolicy]]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for cls in classes:
        names |= dict.fromkeys(p.name for p in cls.all_params())
    return (*names, "bits")


def target_specs() -> Mapping[str, TargetSpec]:
    """Every spec name, with its declared parameters (read-only)."""
    specs = [
        TargetSpec("logged", "the logging policy itself", (), _logged),
        TargetSpec("uniform", "every variant alike", (), _uniform),
        TargetSpec("baseline", "the editorial default, epsilon uniform", ("epsilon",), _baseline),
        TargetSpec("apprentice", "the editorial default, epsilon uniform", ("epsilon",), _baseline),
        TargetSpec("always", "always one variant", ("variant", "rank"), _always),
        TargetSpec(
            "current",
            "the configured exploration, trained progressively",
            _vw_parameters(VW_POLICIES),
            _vw_builder(None),
        ),
    ]
    specs += [
        TargetSpec(
            cls.exploration,
            f"VW {cls.exploration}, trained progressively",
            _vw_parameters([cls]),
            _vw_builder(cls),
        )
        for cls in VW_POLICIES
    ]
    return MappingProxyType({spec.name: spec for spec in specs})


def parse_target(spec: str, settings: Settings) -> TargetPolicy:
    """The target a spec names (see the module docstring).

    Args:
        spec: ``name[:key=value,...]``.
        settings: Defaults for whatever the spec does not set.

    Raises:
        ValueError: Unknown name or parameter, or a bad value (named in the message).
    """
    text = spec.strip()
    name, _, arguments = text.partition(":")
    specs = target_specs()
    if name not in specs:
        raise ValueError(f"unknown policy {name!r} in spec {spec!r}; known: {', '.join(specs)}")
    params: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in arguments.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"policy spec {spec!r}: {item!r} is not key=value")
        if key in params:
            raise ValueError(f"policy spec {spec!r}: {key} given twice")
        params[key] = raw.strip()
    declared = specs[name]
    if params and not declared.parameters:
        raise ValueError(f"policy spec {spec!r}: {name} takes no parameters, got {sorted(params)}")
    unknown = sorted(set(params) - set(declared.parameters))
    if unknown:
        raise ValueError(
            f"policy spec {spec!r}: unknown parameter(s) {unknown}; "
            f"{name} takes {', '.join(declared.parameters)}"
        )
    return declared.build(text, params, settings)


def _number(spec: str, key: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"policy spec {spec!r}: {key} must be a number, got {raw!r}") from None

"""Contextual bandit policies on vowpal-wabbit-next ``--cb_explore_adf``, one per exploration.

VW learns the cost of every action from logged choices (reward ``r`` is logged as cost ``-r``,
with the probability the choice was made with) and turns its cost estimates into a distribution
with the chosen exploration algorithm:

=================  =============================================================  =============
policy             probabilities                                                  default
=================  =============================================================  =============
vw_epsilon_greedy  ``1 - eps + eps/K`` on the lowest cost, ``eps/K`` elsewhere;   eps = 0.2
                   ties go to the first action (``--first_only``)
vw_softmax         ``exp(-lambda * cost)``, normalised                            lambda = 10
vw_squarecb        inverse-gap weighting with ``gamma = scale * t ** exponent``    10, 0.5
vw_bag             share of ``size`` bootstrapped models voting for each action,  5, eps = 0.2
                   mixed with ``eps`` uniform; ties to the first action
vw_cover           ``size`` cover policies plus ``eps`` uniform, weight ``psi``    4, 1.0, 0.2
=================  =============================================================  =============

Actions come in rank order, so an untrained epsilon-greedy or bag model shows the extractor's or
editor's top variant and explores the others; softmax, squarecb and cover start uniform.

Parsing text is most of the cost of a prediction, so a policy keeps the parsed example of every
action it has seen under the action's key (the variant id), re-parsing only when the features
under that key change; VW leaves such examples unchanged after ``predict_one``/``learn_one``
(the tests check that predictions and learned weights are identical either way).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from artwork.bandit.base import (
    ArtworkPolicy,
    PolicyConfig,
    SnapshotHeader,
    pack_snapshot,
    unpack_snapshot,
)
from artwork.bandit.config import PolicySettings
from artwork.bandit.features import (
    DEFAULT_INTERACTIONS,
    ChosenLabel,
    FeatureSpace,
    check_label,
    interaction_args,
    label_prefix,
    render_features,
    render_shared,
)
from artwork.bandit.linear_scores import LinearScores
from artwork.config import Settings
from artwork.domain import Decision
from artwork.errors import ModelError

_logger = logging.getLogger(__name__)

DEFAULT_BITS = 18
CHECKED_PAGES = 3
"""Requests whose greedy choices computed from the weights are also asked of VW."""
CHECKED_TITLES = 20
"""Titles of each such request asked of VW."""
ACTION_CACHE_SIZE = 20_000
"""Parsed action examples kept per policy; the cache starts over when it is full."""


@dataclass(frozen=True, slots=True)
class Param:
    """One exploration parameter: its config key, how to read its setting, and its range.

    ``tunable`` parameters may change when a snapshot is loaded (VW does not fix them in the
    model); the others are part of the model's structure.
    """

    name: str
    read: Callable[[PolicySettings], float]
    """The parameter's value in the settings."""
    tunable: bool
    low: float = 0.0
    high: float = math.inf
    integer: bool = False
    default: float | None = None
    """Value assumed for snapshots written before the parameter existed."""

    def check(self, value: float) -> float:
        number = float(value)
        if not (self.low <= number <= self.high) or (self.integer and not number.is_integer()):
            kind = "an integer" if self.integer else "a number"
            raise ValueError(
                f"{self.name} must be {kind} in [{self.low}, {self.high}], got {value!r}"
            )
        return number


class VWPolicy(ArtworkPolicy):
    """A ``cb_explore_adf`` policy; subclasses choose the exploration algorithm.

    Args:
        bits: Bits of the feature hash (VW ``-b``), 1..30.
        interactions: Pairs of namespaces crossed quadratically.
        version: Version of the model (number of ``learn`` calls behind it).
        model_data: A VW model to continue from (``bits`` and ``interactions`` must be the ones
            it was trained with; its own are used).
        **params: The exploration parameters of the subclass (see its ``PARAMS``).

    Raises:
        ValueError: An argument is out of range or unknown.
        ModelError: ``model_data`` cannot be loaded by VW.
    """

    exploration: ClassVar[str]
    PARAMS: ClassVar[tuple[Param, ...]]
    COMMON: ClassVar[tuple[Param, ...]] = (
        Param(
            "learning_rate",
            lambda s: s.learning_rate,
            tunable=True,
            low=1e-6,
            high=10.0,
            default=0.5,
        ),
        Param("clip_p", lambda s: s.clip_p, tunable=False, high=1.0, default=0.0),
    )

    @classmethod
    def all_params(cls) -> tuple[Param, ...]:
        """The learning parameters every VW policy has, then its exploration parameters."""
        return cls.COMMON + cls.PARAMS

    def __init__(
        self,
        *,
        bits: int = DEFAULT_BITS,
        interactions: Sequence[tuple[str, str]] = DEFAULT_INTERACTIONS,
        version: int = 0,
        model_data: bytes | None = None,
        **params: float,
    ) -> None:
        if not 1 <= bits <= 30:
            raise ValueError(f"bits must be in 1..30, got {bits}")
        if version < 0:
            raise ValueError(f"version must be >= 0, got {version}")
        known = {p.name for p in self.all_params()}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown} for {self.name}; known: {sorted(known)}"
            )
        missing = sorted(known - set(params))
        if missing:
            raise ValueError(f"{self.name} needs parameter(s) {missing}")
        self._params = {p.name: p.check(params[p.name]) for p in self.all_params()}
        import vowpal_wabbit_next as vw  # heavy native module: load on first use

        self._bits = bits
        self._interactions = tuple((a, b) for a, b in interactions)
        self._version = version
        try:
            if model_data is None:
                args = ["--cb_explore_adf", "--quiet", *self._exploration_args(), *self._rate()]
                args += ["-b", str(bits)]
                self._workspace = vw.Workspace(args + interaction_args(self._interactions))
            else:
                args = ["--quiet", *self._load_args(), *self._rate()]
                self._workspace = vw.Workspace(args, model_data=model_data)
        except Exception as exc:  # VW raises bare RuntimeError/CLIError on bad models
            raise ModelError(f"vowpal wabbit cannot load the model: {exc}") from exc
        self._parser = vw.TextFormatParser(self._workspace)
        self._vw_version = str(vw.VW_VERSION)
        # One VW workspace must not predict and learn at the same time; the caches and the
        # parser are guarded by the same lock.
        self._lock = threading.Lock()
        self._cache = ExampleCache(self._parser)
        # Greedy scores read from the weights (epsilon-greedy): built on first use; once
        # _use_linear is False, VW is asked instead. Checked against VW on the first requests.
        self._linear: LinearScores | None = None
        self._use_linear = True
        self._checks_left = CHECKED_PAGES

    # --- exploration, per subclass --------------------------------------------------------------
    def _exploration_args(self) -> list[str]:
        """VW arguments that choose and tune exploration, for a fresh model."""
        raise NotImplementedError

    def _load_args(self) -> list[str]:
        """VW arguments given when loading a model: what VW does not keep in the model."""
        return self._exploration_args()

    def _rate(self) -> list[str]:
        args = ["--learning_rate", self._param("learning_rate")]
        if self._params["clip_p"] > 0:
            args += ["--clip_p", self._param("clip_p")]
        return args

    def _param(self, name: str) -> str:
        value = self._params[name]
        return str(int(value)) if value.is_integer() and self._is_integer(name) else repr(value)

    def _is_integer(self, name: str) -> bool:
        return next(p.integer for p in self.all_params() if p.name == name)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings, *, version: int = 0) -> Self:
        """A fresh policy with its exploration parameters and hash bits from ``settings``."""
        values = PolicySettings.from_settings(settings)
        params: dict[str, Any] = {p.name: float(p.read(values)) for p in cls.all_params()}
        return cls(
            bits=values.bits,
            interactions=configured_interactions(settings),
            version=version,
            **params,
        )

    @classmethod
    def from_snapshot(cls, data: bytes, settings: Settings | None = None) -> Self:
        """Bring back a policy from :meth:`snapshot` bytes.

        Args:
            data: Snapshot bytes.
            settings: When given, its tunable exploration parameters (``epsilon``,
                ``softmax_lambda``) replace the snapshot's; structural ones never do.

        Raises:
            ModelError: ``data`` is not a snapshot of this policy.
        """
        header, payload = unpack_snapshot(data)
        if header.name != cls.name:
            raise ModelError(f"snapshot is of policy {header.name!r}, not {cls.name!r}")
        values = PolicySettings.from_settings(settings) if settings is not None else None
        try:
            params: dict[str, Any] = {
                p.name: float(p.read(values))
                if values is not None and p.tunable
                else float(header.config.get(p.name, p.default))  # type: ignore[arg-type]
                for p in cls.all_params()
            }
            bits = int(header.config["bits"])
            interactions = _parse_interactions(str(header.config["interactions"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"snapshot of {cls.name!r} lacks a usable setting: {exc}") from exc
        return cls(
            bits=bits,
            interactions=interactions,
            version=header.version,
            model_data=payload,
            **params,
        )

    @classmethod
    def rebuild_reason(cls, header: SnapshotHeader, settings: Settings) -> str | None:
        """Another policy, other hash bits or another structural parameter need a rebuild."""
        reason = super().rebuild_reason(header, settings)
        if reason is not None:
            return reason
        values = PolicySettings.from_settings(settings)
        wanted: dict[str, float] = {"bits": float(values.bits)}
        wanted |= {p.name: float(p.read(values)) for p in cls.all_params() if not p.tunable}
        for key, value in wanted.items():
            param = next((p for p in cls.all_params() if p.name == key), None)
            try:
                raw = header.config.get(key, param.default if param is not None else None)
                stored = float(raw)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                return f"the snapshot does not record {key!r}"
            if stored != value:
                return f"the snapshot has {key}={stored:g}, the settings ask for {key}={value:g}"
        if settings.bandit_interactions is not None:
            wanted_pairs = _format_interactions(configured_interactions(settings))
            if str(header.config.get("interactions", "")) != wanted_pairs:
                return (
                    f"the snapshot crosses {header.config.get('interactions')!r}, the settings "
                    f"ask for {wanted_pairs!r}"
                )
        return None

    # --- the policy ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Model version: 0 when fresh, one more after every ``learn``."""
        return self._version

    def config(self) -> PolicyConfig:
        """Name, exploration and its parameters, hash bits, interactions and VW version."""
        config: PolicyConfig = {"name": self.name, "exploration": self.exploration}
        config |= self._params
        config |= {
            "bits": self._bits,
            "interactions": _format_interactions(self._interactions),
            "vw_version": self._vw_version,
        }
        return config

    def pmf(
        self,
        shared: FeatureSpace,
        actions: Sequence[FeatureSpace],
        keys: Sequence[str] | None = None,
    ) -> list[float]:
        """Probability of each action, in action order, summing to 1.

        Args:
            shared: Features of the request.
            actions: Features of each action (at least one).
            keys: Optional id of each action, under which its parsed example is cached.

        Raises:
            ValueError: ``actions`` is empty, ``keys`` has another length, or a value is not
                finite.
        """
        _check_actions(actions, keys)
        with self._lock:
            examples = self._cache.examples(shared, actions, keys)
            prediction: Any = self._workspace.predict_one(examples)
        probabilities = [0.0] * len(actions)
        for index, probability in prediction:
            probabilities[index] = float(probability)
        # VW works in float32: renormalise so the logged propensities sum to 1 in float64.
        total = math.fsum(probabilities)
        if not total > 0.0:
            raise ModelError(f"vowpal wabbit returned no usable probabilities: {prediction!r}")
        return [p / total for p in probabilities]

    def learn(self, decision: Decision, reward: float) -> None:
        """Learn from a logged decision: the shown action costs ``-reward``, at its propensity.

        Args:
            decision: The decision as logged.
            reward: Finite reward; higher is better.

        Raises:
            ValueError: ``reward`` is not finite, or the decision is inconsistent.
        """
        if not math.isfinite(reward):
            raise ValueError(f"reward must be finite, got {reward}")
        count = len(decision.action_ids)
        if len(decision.action_features) != count:
            raise ValueError(
                f"decision {decision.event_id} has {count} actions but "
                f"{len(decision.action_features)} action feature sets"
            )
        label = ChosenLabel(decision.chosen_index, -float(reward), decision.chosen_probability)
        check_label(label, count)
        with self._lock:
            examples = self._cache.examples(
                decision.context, decision.action_features, decision.action_ids, label
            )
            self._workspace.learn_one(examples)
            self._version += 1

    def snapshot(self) -> bytes:
        """The policy as bytes: header (name, version, config) and the VW model."""
        with self._lock:
            payload = self._workspace.serialize()
            header = SnapshotHeader(self.name, self._version, self.config())
        return pack_snapshot(header, payload)

    def inherit_cache(self, other: ArtworkPolicy) -> None:
        """Reuse the feature text ``other`` rendered, and the actions it compiled for scoring
        from the weights, so a hot-swapped model starts warm (under load the learner saves a
        snapshot every few seconds, and each one is served by every worker)."""
        if isinstance(other, VWPolicy):
            with other._lock:
                lines = other._cache.lines()
                linear = other._linear
                compiled = linear.cached() if linear is not None else None
            with self._lock:
                self._cache.inherit(lines)
                if linear is not None and compiled is not None and self._use_linear:
                    self._inherit_linear(linear, compiled)

    def _inherit_linear(self, other: LinearScores, compiled: Any) -> None:
        if self._linear is None:
            try:
                self._linear = LinearScores(self._workspace, self._interactions)
            except ValueError:
                return  # scored by VW; _linear_scores says so on first use
        self._linear.inherit(other, compiled)

    def weights(self) -> str:
        """VW's JSON dump of the non-zero weights (to compare two models exactly)."""
        with self._lock:
            return str(self._workspace.json_weights())


class ExampleCache:
    """Parsed VW examples of feature spaces, reused while the features under a key stay equal.

    Not thread-safe: its owner serialises calls (the policy's lock).

    Args:
        parser: A ``vowpal_wabbit_next.TextFormatParser`` of the workspace the examples are for.
        size: Actions kept; the cache starts over when it is full.
    """

    def __init__(self, parser: Any, size: int = ACTION_CACHE_SIZE) -> None:
        self._parse = parser.parse_line
        self._size = size
        self._actions: dict[str, tuple[FeatureSpace, str, Any]] = {}
        self._shared: tuple[FeatureSpace, Any] | None = None

    def examples(
        self,
        shared: FeatureSpace,
        actions: Sequence[FeatureSpace],
        keys: Sequence[str] | None,
        label: ChosenLabel | None = None,
    ) -> list[Any]:
        """The multi-line example: shared first, then each action (``label`` on its action)."""
        parse = self._parse
        cached = self._shared
        if cached is not None and (cached[0] is shared or cached[0] == shared):
            shared_example = cached[1]
        else:
            shared_example = parse(render_shared(shared))
            self._shared = (shared, shared_example)
        examples = [shared_example]
        used: set[str] = set()
        for index, space in enumerate(actions):
            key = keys[index] if keys is not None else None
            if label is not None and index == label.action_index:
                line = self._entry(key, space)[1] if key is not None else render_features(space)
                examples.append(parse(label_prefix(label) + line))
            elif key is None or key in used:
                # The same example object must not appear twice in one multi-line example.
                examples.append(parse(render_features(space)))
            else:
                examples.append(self._entry(key, space)[2])
                used.add(key)
        return examples

    def _entry(self, key: str, space: FeatureSpace) -> tuple[FeatureSpace, str, Any]:
        entry = self._actions.get(key)
        if entry is not None and (entry[0] is space or entry[0] == space):
            if entry[2] is None:  # inherited: rendered already, not parsed here yet
                entry = (entry[0], entry[1], self._parse(entry[1]))
                self._actions[key] = entry
            return entry
        line = render_features(space)
        if len(self._actions) >= self._size:
            self._actions.clear()
        entry = (space, line, self._parse(line))
        self._actions[key] = entry
        return entry

    def lines(self) -> dict[str, tuple[FeatureSpace, str, Any]]:
        """The rendered lines by key, without the parsed examples (which belong to one
        workspace and must not be shared), for :meth:`inherit`."""
        return {key: (entry[0], entry[1], None) for key, entry in list(self._actions.items())}

    def inherit(self, lines: Mapping[str, tuple[FeatureSpace, str, Any]]) -> None:
        """Start from another cache's rendered lines (see :meth:`lines`)."""
        for key, entry in lines.items():
            self._actions.setdefault(key, entry)


_EPSILON = Param("epsilon", lambda s: s.epsilon, tunable=True, high=1.0)


class EpsilonGreedyPolicy(VWPolicy):
    """Epsilon-greedy: ``1 - eps + eps/K`` on the greedy action, ``eps/K`` on each other one.

    Among actions tied for the lowest predicted cost, the first in action order is the greedy
    one, so an untrained model shows the top-ranked variant.
    """

    name: ClassVar[str] = "vw_epsilon_greedy"
    exploration: ClassVar[str] = "epsilon_greedy"
    PARAMS: ClassVar[tuple[Param, ...]] = (_EPSILON,)

    def _exploration_args(self) -> list[str]:
        return ["--epsilon", self._param("epsilon"), "--first_only"]

    def config(self) -> PolicyConfig:
        """As :meth:`VWPolicy.config`, plus how ties are broken."""
        return super().config() | {"ties": "first_in_rank_order"}

    def pmf(
        self,
        shared: FeatureSpace,
        actions: Sequence[FeatureSpace],
        keys: Sequence[str] | None = None,
    ) -> list[float]:
        """As :meth:`VWPolicy.pmf`; computed like :meth:`pmf_many`, so the two always agree."""
        return self.pmf_many(shared, [(actions, keys)])[0]

    def pmf_many(
        self,
        shared: FeatureSpace,
        titles: Sequence[tuple[Sequence[FeatureSpace], Sequence[str] | None]],
    ) -> list[list[float]]:
        """Every title's distribution for one request, scored from the weights in one pass.

        The greedy action is the one with the lowest predicted cost, computed from VW's
        weights (:class:`~artwork.bandit.linear_scores.LinearScores`) rather than one
        ``predict_one`` per title. The first pages a policy serves are also asked of VW; if
        VW ever picks another greedy action (outside float32 near-ties), the policy logs a
        warning and asks VW from then on. Configurations the weights cannot answer (two action
        namespaces crossed) are asked of VW.
        """
        for actions, keys in titles:
            _check_actions(actions, keys)
        with self._lock:
            scores = self._linear_scores(shared, titles)
        if scores is None:
            # VW answers (and refuses non-finite feature values with a ValueError).
            return [VWPolicy.pmf(self, shared, actions, keys) for actions, keys in titles]
        epsilon = self._params["epsilon"]
        answers = []
        for title_scores in scores:
            values = title_scores.tolist()
            count = len(values)
            share = epsilon / count
            probabilities = [share] * count
            probabilities[values.index(min(values))] += 1.0 - epsilon
            answers.append(probabilities)
        if self._checks_left > 0:
            self._check_against_vw(shared, titles, scores, answers)
        return answers

    def _linear_scores(
        self,
        shared: FeatureSpace,
        titles: Sequence[tuple[Sequence[FeatureSpace], Sequence[str] | None]],
    ) -> list[Any] | None:
        if not self._use_linear:
            return None
        if self._linear is None:
            try:
                self._linear = LinearScores(self._workspace, self._interactions)
            except ValueError as exc:
                _logger.info("greedy scores come from VW predictions: %s", exc)
                self._use_linear = False
                return None
        return self._linear.scores(shared, titles)

    def _check_against_vw(
        self,
        shared: FeatureSpace,
        titles: Sequence[tuple[Sequence[FeatureSpace], Sequence[str] | None]],
        scores: Sequence[Any],
        answers: Sequence[Sequence[float]],
    ) -> None:
        """Compare up to :data:`CHECKED_TITLES` greedy choices with VW's own; stop using the
        weights if they disagree where the scores are not a float32 near-tie."""
        self._checks_left -= 1
        checked = 0
        for (actions, keys), title_scores, answer in zip(titles, scores, answers, strict=True):
            if checked >= CHECKED_TITLES:
                break
            ordered = sorted(title_scores.tolist())
            if len(ordered) > 1 and ordered[1] - ordered[0] <= 1e-4 * (1.0 + abs(ordered[0])):
                continue  # float32 rounding may break this tie either way
            checked += 1
            vw_answer = VWPolicy.pmf(self, shared, actions, keys)
            if vw_answer.index(max(vw_answer)) != answer.index(max(answer)):
                _logger.warning(
                    "greedy actions computed from the weights disagree with VW's predictions "
                    "(VW %s); this policy asks VW from now on",
                    self._vw_version,
                )
                self._use_linear = False
                self._checks_left = 0
                return


class SoftmaxPolicy(VWPolicy):
    """Softmax over negated predicted costs, with inverse temperature ``lambda``."""

    name: ClassVar[str] = "vw_softmax"
    exploration: ClassVar[str] = "softmax"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("lambda", lambda s: s.softmax_lambda, tunable=True),
    )

    def _exploration_args(self) -> list[str]:
        return ["--softmax", "--lambda", self._param("lambda")]


class SquareCBPolicy(VWPolicy):
    """SquareCB (Foster & Rakhlin): inverse-gap weighting, exploring less as data grows."""

    name: ClassVar[str] = "vw_squarecb"
    exploration: ClassVar[str] = "squarecb"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("gamma_scale", lambda s: s.squarecb_gamma_scale, tunable=False, low=1e-9),
        Param("gamma_exponent", lambda s: s.squarecb_gamma_exponent, tunable=False),
    )

    def _exploration_args(self) -> list[str]:
        return [
            "--squarecb",
            "--gamma_scale",
            self._param("gamma_scale"),
            "--gamma_exponent",
            self._param("gamma_exponent"),
        ]

    def _load_args(self) -> list[str]:
        return []  # VW keeps --squarecb and its gamma in the model, and refuses other values


class BagPolicy(VWPolicy):
    """Bagging: ``size`` bootstrapped models vote, mixed with ``epsilon`` uniform exploration."""

    name: ClassVar[str] = "vw_bag"
    exploration: ClassVar[str] = "bag"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("size", lambda s: s.bag_size, tunable=False, low=1, high=64, integer=True),
        _EPSILON,
    )

    def _exploration_args(self) -> list[str]:
        return ["--bag", self._param("size"), "--epsilon", self._param("epsilon"), "--first_only"]

    def _load_args(self) -> list[str]:
        return ["--epsilon", self._param("epsilon"), "--first_only"]


class CoverPolicy(VWPolicy):
    """Online cover: ``size`` policies trained to disagree (weight ``psi``), plus ``epsilon``."""

    name: ClassVar[str] = "vw_cover"
    exploration: ClassVar[str] = "cover"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("size", lambda s: s.cover_size, tunable=False, low=1, high=64, integer=True),
        Param("psi", lambda s: s.cover_psi, tunable=False),
        _EPSILON,
    )

    def _exploration_args(self) -> list[str]:
        return [
            "--cover",
            self._param("size"),
            "--psi",
            self._param("psi"),
            "--epsilon",
            self._param("epsilon"),
        ]

    def _load_args(self) -> list[str]:
        return ["--epsilon", self._param("epsilon")]


VW_POLICIES: tuple[type[VWPolicy], ...] = (
    EpsilonGreedyPolicy,
    SoftmaxPolicy,
    SquareCBPolicy,
    BagPolicy,
    CoverPolicy,
)
"""Every VW policy, one per exploration algorithm."""


def vw_policy_for(exploration: str) -> type[VWPolicy]:
    """The VW policy class implementing ``exploration`` (``epsilon_greedy``, ``softmax``, ...).

    Raises:
        ValueError: No policy implements it.
    """
    by_exploration: Mapping[str, type[VWPolicy]] = {cls.exploration: cls for cls in VW_POLICIES}
    try:
        return by_exploration[exploration]
    except KeyError:
        raise ValueError(
            f"unknown exploration {exploration!r}; known: {sorted(by_exploration)}"
        ) from None


def _check_actions(actions: Sequence[FeatureSpace], keys: Sequence[str] | None) -> None:
    if not actions:
        raise ValueError("actions must hold at least 1 action, got 0")
    if keys is not None and len(keys) != len(actions):
        raise ValueError(f"keys must have one key per action ({len(actions)}), got {len(keys)}")


def configured_interactions(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The interactions ``settings`` ask for: ``ARTWORK_BANDIT_INTERACTIONS`` or the default.

    Raises:
        ValueError: The setting is not a comma-separated list of ``shared*action`` pairs.
    """
    if settings.bandit_interactions is None:
        return DEFAULT_INTERACTIONS
    try:
        pairs = _parse_interactions(settings.bandit_interactions)
    except ValueError as exc:
        raise ValueError(
            f"bandit_interactions must be like 'history*tags,context*faces': {exc}"
        ) from None
    return pairs


def _format_interactions(pairs: Sequence[tuple[str, str]]) -> str:
    return ",".join(f"{a}*{b}" for a, b in pairs)


def _parse_interactions(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        first, _, second = item.partition("*")
        if not first or not second:
            raise ValueError(f"bad interaction {item!r}")
        pairs.append((first, second))
    return tuple(pairs)

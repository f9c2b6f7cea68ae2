"""Features the artwork bandit sees, and their rendering as Vowpal Wabbit ``cb_explore_adf`` text.

A feature space is a mapping ``namespace -> {feature name -> value}``. Categorical features are
``name=value`` keys with value 1.0; numeric features keep their float value. The shared
(per-request) space describes the member and the moment; each action space describes one variant.
Names are kept human-readable here (they are logged with every decision) and escaped only when
rendered for VW, so a logged decision can always be replayed through :func:`vw_example_lines`.

Shared namespaces:

- ``member``: the member id (VW hashes it): lets the model remember what this member took.
- ``context``: device and country (``device=tv``, ``country=nl``).
- ``when``: hour, day-part, weekday, workday or weekend.
- ``history``: the member's genre and tag affinities (``genre=drama``, ``tag=close-up face``),
  the :class:`~artwork.domain.MemberProfile` the caller computed from the member's plays; the
  strongest :data:`PROFILE_TOP` of each are kept. Affinities generalise across members: the model
  learns that drama lovers take close-up faces, not only that member 42 does.

Action namespaces (every numeric key the extractor fills is used, whatever its name):

- ``variant``: the image's identity and editorial rank (``id=...``, ``rank=...``).
- ``quality``: the overall ``score`` and every ``variant.scores`` key not starting with ``face``
  (sharpness, exposure, contrast, colourfulness, ...), each as a level (``sharpness=3``).
- ``faces``: every ``variant.scores`` key starting with ``face`` (``face_count=1``,
  ``face_area=2``), as levels too.
- ``tags``: the tags in ``variant.tags`` with confidence of at least :data:`TAG_MIN`.
- ``embedding``: the signs of a fixed random projection of the L2-normalised content embedding
  to :data:`EMBEDDING_DIMS` dimensions (``p0+``, ``p1-``, ...; see :func:`project_embedding`):
  random-hyperplane hashing, which keeps images with similar content close.

Scores become levels (see :func:`level`) rather than numbers on purpose. VW's normalised updates
make every feature of a rewarded example move the prediction by about as much; a continuous
feature that is near zero for the rewarded image and larger for a sibling image passes the reward
on to the sibling, several times over. Categorical features share a reward only where two images
really are alike, so one play is always credited to the image that earned it most
(``tests/bandit/test_vw_policy.py`` checks this on near-identical variants).

Quadratic interactions (:data:`DEFAULT_INTERACTIONS`) cross the shared namespaces with what
images show; the action namespaces also enter linearly, which is how a brand-new title's
variants are scored from what the model learned on other titles (cold start). VW names an
interaction by the first letter of each namespace, so every namespace starts with a different
letter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Context, MemberProfile, Variant

FeatureSpace = Mapping[str, Mapping[str, float]]
"""Features by namespace: ``{"member": {"id=u42": 1.0}, "context": {...}}``."""

MEMBER = "member"
CONTEXT = "context"
WHEN = "when"
HISTORY = "history"
VARIANT = "variant"
QUALITY = "quality"
TAGS = "tags"
FACES = "faces"
EMBEDDING = "embedding"
DEFAULT_NAMESPACE = " "
"""VW's default (anonymous) namespace; only imported logs use it."""

SHARED_NAMESPACES: tuple[str, ...] = (MEMBER, CONTEXT, WHEN, HISTORY)
ACTION_NAMESPACES: tuple[str, ...] = (VARIANT, QUALITY, TAGS, FACES, EMBEDDING)

DEFAULT_INTERACTIONS: tuple[tuple[str, str], ...] = (
    (MEMBER, VARIANT),  # what this member took: their own history with this very image
    (CONTEXT, TAGS),  # device and country change what appeals ...
    (CONTEXT, FACES),  # ... and faces read small on a phone
    (WHEN, TAGS),  # so does the time of day
    (HISTORY, TAGS),  # what members with this history take: generalises across members
    (HISTORY, FACES),  # ... and across titles, new ones included
)
"""Quadratic interactions between a shared and an action namespace (full names); override
with ``ARTWORK_BANDIT_INTERACTIONS`` (e.g. ``history*embedding,context*variant``).

Chosen on the simulator (:mod:`artwork.bandit.simulator`): crossing the member id with what
images show, the context with the image id, or the history with the embedding adds weights that
50,000 decisions do not pin down, and each cost one to three percent of the take fraction."""

PROFILE_TOP = 8
"""Genres and tags of a member profile kept as features (the strongest of each)."""

EMBEDDING_DIMS = 8
"""Dimensions of the embedding projection."""

EMBEDDING_SEED = 20260314
"""Seed of the projection matrix: fixed, so every process and every snapshot agree on it."""

LEVELS = 4
"""Scores in [0, 1] become levels 0..LEVELS (rounded ``score * LEVELS``)."""

TAG_MIN = 0.25
"""Tags less confident than this are left out."""

FACE_PREFIX = "face"
"""``variant.scores`` keys starting with this go to the ``faces`` namespace."""

# Percent-encoding keeps escaping reversible, so two different names never collide in VW.
_ESCAPES = {
    ord("%"): "%25",
    ord("|"): "%7C",
    ord(":"): "%3A",
    ord(" "): "%20",
    ord("\t"): "%09",
    ord("\n"): "%0A",
    ord("\r"): "%0D",
    ord("\v"): "%0B",
    ord("\f"): "%0C",
    0x85: "%C2%85",
    0xA0: "%C2%A0",
}

_NEEDS_ESCAPE = re.compile(r"[%|:\s\x85\xa0]")

_DAYPARTS = ((6, "night"), (12, "morning"), (18, "afternoon"), (24, "evening"))


class ChosenLabel(NamedTuple):
    """The cost label of a logged decision: which action was shown, its cost, its probability.

    ``cost`` is the negated reward: VW minimises cost.
    """

    action_index: int
    cost: float
    probability: float


def escape_feature_name(name: str) -> str:
    """Escape the characters VW's text format treats specially (``|``, ``:``, whitespace).

    Args:
        name: A feature or namespace name.

    Returns:
        The name with ``%``, ``|``, ``:`` and whitespace percent-encoded.
    """
    # The search is cheaper than translate, and most names need no escaping (hot path).
    return name if _NEEDS_ESCAPE.search(name) is None else name.translate(_ESCAPES)


def daypart(hour: int) -> str:
    """The coarse part of the day an hour falls in: night, morning, afternoon or evening.

    Args:
        hour: Hour of day, 0-23.

    Raises:
        ValueError: ``hour`` is outside 0-23.
    """
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be in 0..23, got {hour}")
    return next(part for end, part in _DAYPARTS if hour < end)


def shared_features(context: Context) -> dict[str, dict[str, float]]:
    """Features of the request: who is asking, what they watch, on what device, and when.

    Args:
        context: The member and the moment artwork is chosen for.

    Returns:
        The ``member`` namespace (the member id, hashed by VW), the ``context`` namespace
        (device, country), the ``when`` namespace (hour, day-part, weekday, weekend or not)
        and, when the context carries a non-empty profile, the ``history`` namespace (genre and
        tag affinities).

    Raises:
        ValueError: ``context.user_id`` or ``context.device`` is empty, ``context.hour`` is not
            in 0..23, ``context.weekday`` is not in 0..6, or a profile affinity is not finite.
    """
    if not context.user_id:
        raise ValueError("context.user_id must not be empty")
    device = context.device.strip().lower()
    if not device:
        raise ValueError(f"context.device must not be empty, got {context.device!r}")
    if not 0 <= context.hour <= 23:
        raise ValueError(f"context.hour must be in 0..23, got {context.hour}")
    if not 0 <= context.weekday <= 6:
        raise ValueError(f"context.weekday must be in 0..6 (Monday is 0), got {context.weekday}")
    country = context.country.strip().lower() or "unknown"
    features: dict[str, dict[str, float]] = {
        MEMBER: {f"id={context.user_id}": 1.0},
        CONTEXT: {f"device={device}": 1.0, f"country={country}": 1.0},
        WHEN: {
            f"hour={context.hour}": 1.0,
            f"daypart={daypart(context.hour)}": 1.0,
            f"weekday={context.weekday}": 1.0,
            f"daytype={'weekend' if context.weekday >= 5 else 'workday'}": 1.0,
        },
    }
    if context.profile is not None:
        history = profile_features(context.profile)
        if history:
            features[HISTORY] = history
    return features


def profile_features(profile: MemberProfile, top: int = PROFILE_TOP) -> dict[str, float]:
    """The ``history`` namespace of a member profile: its strongest genres and tags.

    Args:
        profile: Genre and tag affinities.
        top: How many of each to keep (the largest affinities; ties by name).

    Returns:
        ``{"genre=<g>": affinity, ..., "tag=<t>": affinity, ...}`` without zero affinities.

    Raises:
        ValueError: ``top`` < 1, or an affinity is not finite.
    """
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    features: dict[str, float] = {}
    for prefix, affinities in (("genre", profile.genres), ("tag", profile.tags)):
        items = []
        for name, value in affinities.items():
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"profile {prefix} {name!r} affinity must be finite, got {value}")
            if number != 0.0:
                items.append((-abs(number), name, number))
        for _, name, number in sorted(items)[:top]:
            features[f"{prefix}={name}"] = number
    return features


def action_features(
    variant: Variant, *, embedding_dims: int = EMBEDDING_DIMS
) -> dict[str, dict[str, float]]:
    """Features of one variant: identity and rank, quality, faces, tags and embedding.

    The identity feature lets the model learn a preference for this very image; the others
    generalise to variants (and titles) it has never shown.

    Args:
        variant: An artwork variant.
        embedding_dims: Dimensions of the embedding projection (0 leaves it out).

    Returns:
        The ``variant``, ``quality``, ``faces``, ``tags`` and ``embedding`` namespaces; empty
        namespaces are left out.

    Raises:
        ValueError: ``variant.variant_id`` is empty, or a score, tag or embedding value is not
            finite.
    """
    if not variant.variant_id:
        raise ValueError("variant.variant_id must not be empty")
    quality = {f"score={level(_finite(variant.score, variant, 'score'))}": 1.0}
    faces: dict[str, float] = {}
    for name, value in variant.scores.items():
        number = _finite(value, variant, f"scores[{name!r}]")
        target = faces if name.startswith(FACE_PREFIX) else quality
        target[f"{name}={level(number, count=name.endswith('count'))}"] = 1.0
    tags = {
        name: 1.0
        for name, value in variant.tags.items()
        if _finite(value, variant, f"tags[{name!r}]") >= TAG_MIN
    }
    features: dict[str, dict[str, float]] = {
        VARIANT: {f"id={variant.variant_id}": 1.0, f"rank={variant.rank}": 1.0},
        QUALITY: quality,
    }
    if faces:
        features[FACES] = faces
    if tags:
        features[TAGS] = tags
    if embedding_dims and variant.embedding is not None and variant.embedding.size:
        vector = np.asarray(variant.embedding, dtype=np.float64).ravel()
        if not np.all(np.isfinite(vector)):
            raise ValueError(f"variant {variant.variant_id!r} embedding must be finite")
        projected = project_embedding(vector, embedding_dims)
        if projected:
            features[EMBEDDING] = {
                f"p{i}{'+' if value >= 0 else '-'}": 1.0 for i, value in enumerate(projected)
            }
    return features


def level(value: float, *, count: bool = False) -> str:
    """The categorical level of a score, as used in feature names.

    Args:
        value: A finite score.
        count: The score counts things (faces): levels are 0, 1, 2, 3 and ``4+``.

    Returns:
        For counts, the count capped at ``4+``; for scores in [0, 1], ``round(value * LEVELS)``
        (0 ... 4); for other scores, ``neg`` or ``e<k>`` with ``k = floor(log2(value))``.
    """
    if count and value >= 0:
        return str(int(value)) if value < 4 else "4+"
    if 0.0 <= value <= 1.0:
        return str(round(value * LEVELS))
    if value < 0:
        return "neg"
    return f"e{math.floor(math.log2(value))}"


def project_embedding(embedding: NDArray[np.floating], dims: int = EMBEDDING_DIMS) -> list[float]:
    """A low-dimensional, fixed random projection of an embedding's direction.

    The embedding is L2-normalised, then multiplied by a ``dims x d`` matrix of independent
    N(0, 1/dims) entries drawn from a generator seeded with ``(EMBEDDING_SEED, d, dims)``: the
    same matrix in every process, for every embedding of dimension ``d``. By Johnson-Lindenstrauss
    the projection roughly keeps angles between images, so the model can learn "members who take
    this kind of image" from 8 numbers instead of 512 or 1280. Values are rounded to 6 decimals
    (they are logged with every decision).

    Args:
        embedding: A 1-d vector of any length.
        dims: Output dimensions, >= 1.

    Returns:
        ``dims`` floats; empty when the embedding has zero length (no direction).

    Raises:
        ValueError: ``dims`` < 1, or the embedding is not finite.
    """
    if dims < 1:
        raise ValueError(f"dims must be >= 1, got {dims}")
    vector = np.asarray(embedding, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(vector))
    if not math.isfinite(norm):
        raise ValueError("embedding must be finite")
    if norm == 0.0:
        return []
    projected = _projection(vector.size, dims) @ (vector / norm)
    return [round(float(value), 6) for value in projected]


@lru_cache(maxsize=8)
def _projection(size: int, dims: int) -> NDArray[np.float64]:
    rng = np.random.default_rng([EMBEDDING_SEED, size, dims])
    matrix: NDArray[np.float64] = rng.standard_normal((dims, size)) / math.sqrt(dims)
    matrix.setflags(write=False)
    return matrix


def vw_example_lines(
    shared: FeatureSpace,
    actions: Sequence[FeatureSpace],
    label: ChosenLabel | None = None,
) -> list[str]:
    """Render one ``cb_explore_adf`` example: a ``shared`` line, then one line per action.

    Args:
        shared: Features of the request.
        actions: Features of each action, in action order.
        label: For learning, the logged choice; its action's line gets ``0:cost:probability``.

    Returns:
        The text lines, ready for ``vowpal_wabbit_next.TextFormatParser.parse_line``.

    Raises:
        ValueError: ``actions`` is empty, a value is not finite, or ``label`` is out of range.
    """
    if not actions:
        raise ValueError("actions must hold at least 1 action, got 0")
    if label is not None:
        check_label(label, len(actions))
    lines = [render_shared(shared)]
    for index, action in enumerate(actions):
        line = render_features(action)
        if label is not None and index == label.action_index:
            line = label_prefix(label) + line
        lines.append(line)
    return lines


def check_label(label: ChosenLabel, count: int) -> None:
    """Check a label against the number of actions.

    Raises:
        ValueError: The index is out of range, the cost not finite or the probability not in
            (0, 1].
    """
    if not 0 <= label.action_index < count:
        raise ValueError(f"label.action_index must be in 0..{count - 1}, got {label.action_index}")
    if not math.isfinite(label.cost):
        raise ValueError(f"label.cost must be finite, got {label.cost}")
    if not 0.0 < label.probability <= 1.0:
        raise ValueError(f"label.probability must be in (0, 1], got {label.probability}")


def label_prefix(label: ChosenLabel) -> str:
    """The ``0:cost:probability `` prefix VW reads as the label of the shown action."""
    return f"0:{label.cost!r}:{label.probability!r} "


def render_shared(shared: FeatureSpace) -> str:
    """The ``shared ...`` line of an example."""
    return "shared " + render_features(shared)


def render_features(space: FeatureSpace) -> str:
    """One feature space as VW text namespaces (``|member id=u1 |context device=tv ...``).

    Raises:
        ValueError: A namespace name is empty or a value is not finite.
    """
    # Hot path of learning (every event renders its actions): escaping and formatting inlined.
    parts: list[str] = []
    needs_escape = _NEEDS_ESCAPE.search
    for namespace, features in space.items():
        if not features:
            continue
        if not namespace:
            raise ValueError("namespace names must not be empty")
        # "| f" is VW's default namespace; any other name is escaped like a feature.
        parts.append(
            "|" if namespace == DEFAULT_NAMESPACE else "|" + escape_feature_name(namespace)
        )
        for name, value in features.items():
            text = name if needs_escape(name) is None else name.translate(_ESCAPES)
            if value == 1.0:
                parts.append(text)
            elif math.isfinite(value):
                # VW keeps float32; 9 significant digits carry every float32 exactly.
                parts.append("%s:%.9g" % (text, value))  # noqa: UP031 (faster than f-string)
            else:
                raise ValueError(f"feature {namespace}/{name} must be finite, got {value}")
    # An action without features still needs a line of its own: an empty line ends the example.
    return " ".join(parts) if parts else "|"


def interaction_args(interactions: Sequence[tuple[str, str]]) -> list[str]:
    """VW ``--interactions`` arguments for pairs of namespace names.

    Args:
        interactions: Pairs of full namespace names, e.g. ``("member", "variant")``.

    Returns:
        ``["--interactions", "mv", ...]``: VW keys namespaces by their first letter.

    Raises:
        ValueError: A namespace name is empty.
    """
    args: list[str] = []
    for pair in interactions:
        if any(not name for name in pair):
            raise ValueError(f"interactions must name two non-empty namespaces, got {pair!r}")
        args += ["--interactions", "".join(escape_feature_name(name)[0] for name in pair)]
    return args


def _finite(value: float, variant: Variant, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"variant {variant.variant_id!r} {what} must be finite, got {value}")
    return number

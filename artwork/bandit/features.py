"""Features the artwork bandit sees, and their rendering as Vowpal Wabbit ``cb_explore_adf`` text.

A feature space is a mapping ``namespace -> {feature name -> value}``. Categorical features are
``name=value`` keys with value 1.0; numeric features keep their float value. The shared
(per-request) space describes the member and the moment; each action space describes one variant.
Names are kept human-readable here (they are logged with every decision) and escaped only when
rendered for VW, so a logged decision can always be replayed through :func:`vw_example_lines`.

Vowpal Wabbit names an interaction by the first letter of each namespace, so every namespace
below starts with a different letter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from artwork.domain import Context, Variant

FeatureSpace = Mapping[str, Mapping[str, float]]
"""Features by namespace: ``{"member": {"id=u42": 1.0}, "context": {...}}``."""

MEMBER = "member"
CONTEXT = "context"
VARIANT = "variant"
QUALITY = "quality"
TAGS = "tags"

SHARED_NAMESPACES: tuple[str, ...] = (MEMBER, CONTEXT)
ACTION_NAMESPACES: tuple[str, ...] = (VARIANT, QUALITY, TAGS)

DEFAULT_INTERACTIONS: tuple[tuple[str, str], ...] = (
    (MEMBER, VARIANT),  # this member's taste for this very image
    (MEMBER, TAGS),  # ... for what images show, which carries over to new titles
    (MEMBER, QUALITY),
    (CONTEXT, VARIANT),  # device and time of day change what reads well
    (CONTEXT, TAGS),
    (CONTEXT, QUALITY),
)
"""Quadratic interactions between a shared and an action namespace (full names)."""

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
    """Features of the request: who is asking, on what device, and when.

    Args:
        context: The member and the moment artwork is chosen for.

    Returns:
        The ``member`` namespace (the member id, hashed by VW) and the ``context`` namespace
        (device, country, hour, day-part, weekday, weekend or not).

    Raises:
        ValueError: ``context.user_id`` or ``context.device`` is empty, ``context.hour`` is not
            in 0..23 or ``context.weekday`` is not in 0..6.
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
    return {
        MEMBER: {f"id={context.user_id}": 1.0},
        CONTEXT: {
            f"device={device}": 1.0,
            f"country={country}": 1.0,
            f"hour={context.hour}": 1.0,
            f"daypart={daypart(context.hour)}": 1.0,
            f"weekday={context.weekday}": 1.0,
            f"daytype={'weekend' if context.weekday >= 5 else 'workday'}": 1.0,
        },
    }


def action_features(variant: Variant) -> dict[str, dict[str, float]]:
    """Features of one variant: its identity and rank, its quality scores and its tags.

    The identity feature lets the model learn a preference for this very image; scores and tags
    generalise to variants (and titles) it has never shown.

    Args:
        variant: An artwork variant.

    Returns:
        The ``variant`` namespace (``id=...``, ``rank=...``), the ``quality`` namespace (each
        score, plus ``score``, the overall one) and the ``tags`` namespace (tag -> confidence).
        Empty namespaces are left out.

    Raises:
        ValueError: ``variant.variant_id`` is empty, or a score or tag value is not finite.
    """
    if not variant.variant_id:
        raise ValueError("variant.variant_id must not be empty")
    quality = {"score": _finite(variant.score, variant, "score")}
    for name, value in variant.scores.items():
        quality[name] = _finite(value, variant, f"scores[{name!r}]")
    tags = {
        name: _finite(value, variant, f"tags[{name!r}]") for name, value in variant.tags.items()
    }
    features: dict[str, dict[str, float]] = {
        VARIANT: {f"id={variant.variant_id}": 1.0, f"rank={variant.rank}": 1.0},
        QUALITY: quality,
    }
    if tags:
        features[TAGS] = tags
    return features


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
        if not 0 <= label.action_index < len(actions):
            raise ValueError(
                f"label.action_index must be in 0..{len(actions) - 1}, got {label.action_index}"
            )
        if not math.isfinite(label.cost):
            raise ValueError(f"label.cost must be finite, got {label.cost}")
        if not 0.0 < label.probability <= 1.0:
            raise ValueError(f"label.probability must be in (0, 1], got {label.probability}")
    lines = ["shared " + _render(shared)]
    for index, action in enumerate(actions):
        line = _render(action)
        if label is not None and index == label.action_index:
            line = f"0:{label.cost!r}:{label.probability!r} {line}"
        lines.append(line)
    return lines


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


def _render(space: FeatureSpace) -> str:
    # Hot path (every choose renders every action): escaping and formatting are inlined.
    parts: list[str] = []
    needs_escape = _NEEDS_ESCAPE.search
    for namespace, features in space.items():
        if not features:
            continue
        if not namespace:
            raise ValueError("namespace names must not be empty")
        parts.append("|" + escape_feature_name(namespace))
        for name, value in features.items():
            text = name if needs_escape(name) is None else name.translate(_ESCAPES)
            if value == 1.0:
                parts.append(text)
            elif math.isfinite(value):
                # VW keeps float32; 9 significant digits carry every float32 exactly.
                parts.append(f"{text}:{value:.9g}")
            else:
                raise ValueError(f"feature {namespace}/{name} must be finite, got {value}")
    # An action without features still needs a line of its own: an empty line ends the example.
    return " ".join(parts) if parts else "|"


def _finite(value: float, variant: Variant, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"variant {variant.variant_id!r} {what} must be finite, got {value}")
    return number

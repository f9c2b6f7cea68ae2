"""What a reward is worth: the configured definitions that turn play events into reward values.

Clients either post a value (``{"event_id", "value"}``, taken as is) or what happened
(``{"event_id", "kind": "play" | "watch", "seconds"}``), which the definition named by
``ARTWORK_REWARD_DEFINITION`` maps to a value. The bandit should reward plays that satisfied the
member, not clicks (no clickbait), hence the default:

================  ==================================================================
definition        value of an event that watched ``s`` seconds of a title of length ``d``
================  ==================================================================
``play``          1 for any play (``kind="play"``, or a watch of ``s > 0``), else 0
``qualified_play`` 1 if ``s >= min(ARTWORK_QUALIFIED_PLAY_S, d)``, else 0 (the default)
``watch_time``    ``min(1, s / d)``; ``d`` is ``ARTWORK_WATCH_TIME_CAP_S`` when unknown
================  ==================================================================

A ``play`` event without ``seconds`` counts as 0 seconds watched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from artwork.config import Settings

EventKind = Literal["play", "watch"]
EVENT_KINDS: tuple[str, ...] = ("play", "watch")


@dataclass(frozen=True, slots=True)
class RewardEvent:
    """What a client reports: a play started, or so many seconds watched."""

    kind: EventKind
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"kind must be one of {list(EVENT_KINDS)}, got {self.kind!r}")
        if not (math.isfinite(self.seconds) and self.seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {self.seconds!r}")


RewardFunction = Callable[[RewardEvent, float | None, Settings], float]
"""``(event, title duration in seconds or None, settings) -> reward value``."""


def _play(event: RewardEvent, _duration_s: float | None, _settings: Settings) -> float:
    return 1.0 if event.kind == "play" or event.seconds > 0 else 0.0


def _qualified_play(event: RewardEvent, duration_s: float | None, settings: Settings) -> float:
    threshold = settings.qualified_play_s
    if duration_s is not None and duration_s > 0:
        threshold = min(threshold, duration_s)
    return 1.0 if event.seconds >= threshold else 0.0


def _watch_time(event: RewardEvent, duration_s: float | None, settings: Settings) -> float:
    length = duration_s if duration_s is not None and duration_s > 0 else settings.watch_time_cap_s
    return min(1.0, event.seconds / length)


REWARD_DEFINITIONS: Mapping[str, RewardFunction] = {
    "play": _play,
    "qualified_play": _qualified_play,
    "watch_time": _watch_time,
}
"""Reward definitions by name (``ARTWORK_REWARD_DEFINITION``)."""


def reward_value(event: RewardEvent, duration_s: float | None, settings: Settings) -> float:
    """The value of ``event`` under the definition ``settings`` select.

    Args:
        event: What the client reported.
        duration_s: The title's running time in seconds, if known.
        settings: ``reward_definition``, ``qualified_play_s``, ``watch_time_cap_s``.

    Returns:
        The reward, in [0, 1].

    Raises:
        ValueError: The definition is unknown, or ``duration_s`` is negative or not finite.
    """
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s >= 0):
        raise ValueError(f"duration_s must be a finite number >= 0, got {duration_s!r}")
    try:
        function = REWARD_DEFINITIONS[settings.reward_definition]
    except KeyError:
        raise ValueError(
            f"unknown reward definition {settings.reward_definition!r}; "
            f"known: {sorted(REWARD_DEFINITIONS)}"
        ) from None
    return function(event, duration_s, settings)

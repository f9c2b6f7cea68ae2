"""Reward definitions: what a play or so many seconds watched is worth."""

from __future__ import annotations

import math

import pytest

from artwork.bandit.rewards import REWARD_DEFINITIONS, RewardEvent, reward_value
from artwork.config import Settings


@pytest.mark.parametrize(
    ("definition", "event", "duration", "value"),
    [
        ("play", RewardEvent("play"), None, 1.0),
        ("play", RewardEvent("watch", 0.0), None, 0.0),
        ("play", RewardEvent("watch", 3.0), 600.0, 1.0),
        ("qualified_play", RewardEvent("watch", 120.0), 3600.0, 1.0),
        ("qualified_play", RewardEvent("watch", 119.9), 3600.0, 0.0),
        ("qualified_play", RewardEvent("watch", 119.9), None, 0.0),
        ("qualified_play", RewardEvent("watch", 45.0), 45.0, 1.0),
        ("qualified_play", RewardEvent("play"), 45.0, 0.0),
        ("watch_time", RewardEvent("watch", 30.0), 60.0, 0.5),
        ("watch_time", RewardEvent("watch", 90.0), 60.0, 1.0),
        ("watch_time", RewardEvent("watch", 900.0), None, 0.25),
        ("watch_time", RewardEvent("watch", 900.0), 0.0, 0.25),
    ],
)
def test_definitions(
    definition: str, event: RewardEvent, duration: float | None, value: float
) -> None:
    settings = Settings(
        reward_definition=definition,  # type: ignore[arg-type]
        qualified_play_s=120.0,
        watch_time_cap_s=3600.0,
    )
    assert reward_value(event, duration, settings) == pytest.approx(value)


def test_every_definition_is_registered_by_the_name_settings_accept() -> None:
    assert set(REWARD_DEFINITIONS) == {"play", "qualified_play", "watch_time"}
    assert Settings().reward_definition == "qualified_play"


@pytest.mark.parametrize(
    ("kind", "seconds", "bad"),
    [("click", 0.0, "kind"), ("watch", -1.0, "seconds"), ("watch", math.inf, "seconds")],
)
def test_bad_events_are_named(kind: str, seconds: float, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        RewardEvent(kind, seconds)  # type: ignore[arg-type]


def test_bad_duration_is_named() -> None:
    with pytest.raises(ValueError, match="duration_s"):
        reward_value(RewardEvent("play"), -5.0, Settings())

"""Member profiles from plays: genre shares and the tags of what the member watched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from artwork.bandit.profile import member_profile
from artwork.domain import Interaction, Title, Variant, VariantStatus

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
TITLES = {
    "a": Title("a", "A", ("drama",), 100.0),
    "b": Title("b", "B", ("comedy", "drama"), 100.0),
}


def variant(title_id: str, index: int, tags: dict[str, float]) -> Variant:
    return Variant(
        f"{title_id}{index}", title_id, index, 0.0, 0.5, {}, tags, "e", "p", 1, 1,
        VariantStatus.APPROVED,
    )  # fmt: skip


def test_genres_are_completion_weighted_shares() -> None:
    plays = [
        Interaction("u", "a", WHEN, 100.0, 100.0),  # finished: weight 1
        Interaction("u", "b", WHEN, 50.0, 100.0),  # half: weight 0.5, split over 2 genres
        Interaction("u", "gone", WHEN, 10.0, 100.0),  # not in the catalogue
    ]
    profile = member_profile(plays, TITLES)

    assert profile is not None
    assert profile.genres == pytest.approx({"drama": 1.25 / 1.5, "comedy": 0.25 / 1.5})
    assert profile.tags == {}


def test_tags_are_what_the_played_titles_artwork_shows() -> None:
    plays = [Interaction("u", "a", WHEN, 100.0, 100.0), Interaction("u", "b", WHEN, 100.0, None)]
    variants = {
        "a": [variant("a", 0, {"face": 1.0}), variant("a", 1, {"face": 0.5, "car": 1.0})],
        "b": [variant("b", 0, {"landscape": 0.8})],
    }
    profile = member_profile(plays, TITLES, variants)

    assert profile is not None
    assert profile.tags == pytest.approx({"face": 0.375, "car": 0.25, "landscape": 0.4})


def test_a_member_without_plays_has_no_profile() -> None:
    assert member_profile([], TITLES) is None
    assert member_profile([Interaction("u", "zzz", WHEN, 1.0)], TITLES) is None

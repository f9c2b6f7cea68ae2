from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from artwork.demo.history import simulate_history
from artwork.domain import Title

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TITLES = [Title(f"t{i}", f"T{i}", (("drama",), ("comedy",))[i % 2], 60.0) for i in range(10)]


def test_history_is_deterministic_and_well_formed() -> None:
    first = simulate_history(TITLES, users=50, plays_per_user=3, now=NOW, seed=1)
    again = simulate_history(TITLES, users=50, plays_per_user=3, now=NOW, seed=1)
    assert first == again
    assert all(p.timestamp <= NOW and 0 < p.seconds <= 60.0 for p in first)
    assert [p.timestamp for p in first] == sorted(p.timestamp for p in first)
    assert len({p.user_id for p in first}) == 50
    # Some plays stop part-way (continue watching needs them), most finish.
    finished = Counter(p.seconds >= 60.0 for p in first)
    assert finished[True] > finished[False] > 0


def test_members_have_genre_tastes() -> None:
    plays = simulate_history(TITLES, users=300, plays_per_user=3, now=NOW, seed=2)
    genre = {t.title_id: t.genres[0] for t in TITLES}
    by_user: dict[str, Counter[str]] = {}
    for p in plays:
        by_user.setdefault(p.user_id, Counter())[genre[p.title_id]] += 1
    # With Dirichlet(0.5) tastes, many members concentrate on one genre.
    concentrated = sum(1 for c in by_user.values() if sum(c.values()) >= 3 and len(c) == 1)
    assert concentrated > 30


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"users": 0}, "users"),
        ({"plays_per_user": 0}, "plays_per_user"),
        ({"finish_rate": 2.0}, "finish_rate"),
    ],
)
def test_arguments_are_checked(kwargs: dict[str, float], name: str) -> None:
    args = {"users": 1, "plays_per_user": 1.0, "now": NOW} | kwargs
    with pytest.raises(ValueError, match=name):
        simulate_history(TITLES, **args)  # type: ignore[arg-type]

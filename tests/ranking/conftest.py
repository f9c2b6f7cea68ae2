"""A small catalogue with known plays, shared by the ranking tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from artwork.domain import Interaction, Title
from artwork.ranking.data import RankingData

NOW = datetime(2026, 6, 1, 20, tzinfo=UTC)


def play(
    user: str, title: str, seconds: float, hours_ago: float, duration: float = 100.0
) -> Interaction:
    return Interaction(user, title, NOW - timedelta(hours=hours_ago), seconds, duration)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def taste_data() -> RankingData:
    """Two taste groups over six titles, a title nobody has watched ('new-space', whose
    content is close to 'space-1'), and a title without content ('untagged').

    Members s0..s9 watch space-1, space-2 and space-3; members d0..d9 watch drama-1, drama-2
    and drama-3; x0 watched space-1 only.
    """
    titles = [
        Title("space-1", "Space One", ("sci-fi",), 100.0),
        Title("space-2", "Space Two", ("sci-fi",), 100.0),
        Title("space-3", "Space Three", ("sci-fi",), 100.0),
        Title("drama-1", "Drama One", ("drama",), 100.0),
        Title("drama-2", "Drama Two", ("drama",), 100.0),
        Title("drama-3", "Drama Three", ("drama",), 100.0),
        Title("new-space", "New Space", ("sci-fi",), 100.0),
        Title("untagged", "Untagged", ("drama",), 100.0),
    ]
    plays = []
    for i in range(10):
        for j, t in enumerate(("space-1", "space-2", "space-3")):
            plays.append(play(f"s{i}", t, 100.0, 200 - 10 * i - j))
        for j, t in enumerate(("drama-1", "drama-2", "drama-3")):
            plays.append(play(f"d{i}", t, 100.0, 200 - 10 * i - j))
    plays.append(play("x0", "space-1", 100.0, 1))
    content = {
        "space-1": unit(1, 0.1, 0),
        "space-2": unit(1, 0.3, 0.1),
        "space-3": unit(0.9, 0, 0.3),
        "drama-1": unit(0, 1, 0.1),
        "drama-2": unit(0.1, 1, 0),
        "drama-3": unit(0, 0.9, 0.3),
        "new-space": unit(1, 0.12, 0.01),
    }
    return RankingData({t.title_id: t for t in titles}, plays, NOW, content)


@pytest.fixture(scope="session")
def world():  # type: ignore[no-untyped-def]
    """A small synthetic catalogue with known tastes (about 0.1 s to build)."""
    from artwork.bench.catalogue import simulate_catalogue

    return simulate_catalogue(titles=400, users=800, interactions=12_000, genres=10, seed=3)


@pytest.fixture(scope="session")
def world_builder(world):  # type: ignore[no-untyped-def]
    """A page builder fitted on ``world`` (shared: tests must not change it)."""
    from artwork.ranking.config import RankingConfig
    from artwork.ranking.page import PageBuilder

    return PageBuilder(config=RankingConfig(page_rows=12, row_size=10)).fit(world.ranking_data())

"""A small catalogue with a decision history, shared by the page tests and the browser tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from artwork.domain import Interaction, Reward, VariantStatus
from artwork.homepage import make_context
from artwork.testing.catalog import seed_title
from artwork.testing.keys import api_client
from artwork.wiring import Services

GENRES = {"t0": "drama", "t1": "comedy", "t2": "drama", "t3": "sci-fi"}


def seed_pages(services: Services, decisions: int = 240, seed: int = 7) -> None:
    """Four titles with approved artwork, one (``fresh``) whose variants await review, plays
    by member m1, and ``decisions`` logged decisions over the past two days, a third rewarded:
    the first quarter in apprentice mode, then a learning model of growing version.

    Rank-0 variants are taken more often, so the per-variant charts have something to show.
    """
    for i, (title_id, genre) in enumerate(GENRES.items()):
        seed_title(
            services.catalog, services.media, title_id, name=f"Title {i}", genres=(genre,), seed=i
        )
    seed_title(
        services.catalog,
        services.media,
        "fresh",
        name="Fresh Arrival",
        genres=("drama",),
        status=VariantStatus.PROPOSED,
        seed=9,
    )
    now = datetime.now(UTC)
    services.catalog.add_interactions(
        [Interaction("m1", "t0", now - timedelta(hours=3), 10.0, 60.0)]
    )
    rng = np.random.default_rng(seed)
    bandit = services.bandit
    approved = services.catalog.variants_for(GENRES, VariantStatus.APPROVED)
    start = now - timedelta(days=2)
    items = []
    for n in range(decisions):
        title_id = list(GENRES)[n % len(GENRES)]
        created = start + timedelta(seconds=float(n) / decisions * 40 * 3600)
        context = make_context(f"m{n % 9}", "web", now=created)
        decision = bandit.decide(context, title_id, approved[title_id], impressions=n)
        # The first quarter as if served in apprentice mode, then a model that grows.
        apprentice = n < decisions // 4
        decision = replace(
            decision,
            created_at=created,
            model_version=0 if apprentice else n - decisions // 4,
            policy=dict(decision.policy) | {"mode": "apprentice" if apprentice else "online"},
        )
        taken = rng.random() < (0.5 if decision.chosen_index == 0 else 0.2)
        reward = None
        if taken:
            lag = timedelta(seconds=float(rng.uniform(5, 600)))
            reward = Reward(decision.event_id, 1.0, created + lag)
        items.append((decision, reward))
    bandit.log.import_events(items)


@pytest.fixture(scope="session")
def page_seeder() -> Callable[[Services], None]:
    """:func:`seed_pages`, for module-scoped fixtures (a served home for the browser tests)."""
    return seed_pages


@pytest.fixture
def page_services(services: Services) -> Services:
    seed_pages(services)
    return services


@pytest.fixture
def pages(page_services: Services) -> Iterator[TestClient]:
    """A client presenting a bearer key with every scope."""
    with api_client(page_services) as client:
        yield client

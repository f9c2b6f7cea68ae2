from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from artwork.domain import Interaction
from artwork.testing.catalog import seed_title
from artwork.testing.keys import api_client
from artwork.wiring import Services


@pytest.fixture
def seeded(services: Services) -> Services:
    """Three titles in two genres; member u1 is part-way through 'space'."""
    seed_title(services.catalog, services.media, "space", genres=("sci-fi",), variants=4, seed=1)
    seed_title(services.catalog, services.media, "cats", genres=("comedy",), variants=3, seed=2)
    seed_title(services.catalog, services.media, "duel", genres=("drama",), variants=2, seed=3)
    now = datetime.now(UTC)
    services.catalog.add_interactions(
        [
            Interaction("u1", "space", now - timedelta(hours=1), 20.0, 60.0),
            Interaction("u2", "cats", now - timedelta(hours=2), 60.0, 60.0),
            Interaction("u3", "cats", now - timedelta(hours=3), 60.0, 60.0),
        ]
    )
    return services


@pytest.fixture
def client(seeded: Services) -> Iterator[TestClient]:
    with api_client(seeded) as test_client:
        yield test_client

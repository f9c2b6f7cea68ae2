from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from artwork.app import create_app
from artwork.domain import Interaction
from artwork.testing.catalog import seed_title
from artwork.testing.keys import api_client, bearer, make_key
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


@pytest.fixture
def client_key(seeded: Services) -> str:
    """A client key for the fast-path tests."""
    return make_key(seeded.engine, "client")


@pytest.fixture
def remembered(seeded: Services, client_key: str) -> Iterator[TestClient]:
    """A client presenting ``client_key``, verified once: the fast paths answer from memory."""
    with TestClient(create_app(services=seeded), headers=bearer(client_key)) as test_client:
        assert test_client.get("/v1/titles/space/artwork", params={"user_id": "u0"}).is_success
        yield test_client

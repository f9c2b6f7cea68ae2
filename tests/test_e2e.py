"""End to end on a real clip: ingest, the homepage shows its artwork, a reward moves the policy."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from artwork.api.app import create_app
from artwork.services import Services
from artwork.testing.footage import sample_clip


@pytest.fixture
def client(ingesting_services: Services) -> Iterator[TestClient]:
    ingesting_services.ingestor.ingest(
        sample_clip("bigbuckbunny.mp4"),
        title_id="bbb",
        name="Big Buck Bunny",
        genres=["animation"],
    )
    with TestClient(create_app(services=ingesting_services)) as test_client:
        yield test_client


def _decision(client: TestClient, event_id: str) -> dict[str, object]:
    response = client.get(f"/v1/decisions/{event_id}")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_reward_raises_the_rewarded_variants_probability(client: TestClient) -> None:
    rows = client.get("/v1/homepage", params={"user_id": "m0", "device": "tv"}).json()["rows"]
    items = [i for r in rows for i in r["items"] if i["title_id"] == "bbb"]
    assert items, "the ingested title is on the homepage"
    image = client.get(urlparse(items[0]["artwork"]["url"]).path)
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"

    # Find a decision that explored: its chosen variant is not the greedy one.
    for n in range(300):
        user = f"m{n}"
        artwork = client.get(
            "/v1/titles/bbb/artwork", params={"user_id": user, "device": "tv"}
        ).json()["artwork"]
        decision = _decision(client, artwork["event_id"])
        probabilities = decision["probabilities"]
        assert isinstance(probabilities, list)
        if decision["chosen_probability"] < max(probabilities):
            break
    else:
        pytest.fail("no exploring decision in 300 requests")
    before = decision["chosen_probability"]
    assert isinstance(before, float)
    rewarded = decision["chosen_variant_id"]

    reward = client.post("/v1/rewards", json={"event_id": artwork["event_id"], "value": 1.0})
    assert reward.status_code == 200 and reward.json()["learned"] is True

    again = client.get("/v1/titles/bbb/artwork", params={"user_id": user, "device": "tv"})
    after = _decision(client, again.json()["artwork"]["event_id"])
    assert isinstance(after["action_ids"], list) and isinstance(after["probabilities"], list)
    index = after["action_ids"].index(rewarded)
    assert after["probabilities"][index] > before
    assert after["model_version"] == reward.json()["model_version"]

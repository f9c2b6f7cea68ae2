"""End to end on a real clip: ingest, the homepage shows its artwork, a reward moves the policy
once the learner has learned it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from artwork.demo.footage import sample_clip
from artwork.testing.keys import api_client
from artwork.wiring import Services


@pytest.fixture
def client(ingesting_services: Services) -> Iterator[TestClient]:
    # Consistency would show member m{n} the variant they were just shown again, learned or
    # not; switched off, the probabilities below are the model's own.
    ingesting_services.settings = ingesting_services.settings.model_copy(
        update={"consistency_window_s": 0.0}
    )
    ingesting_services.ingestor.ingest(
        sample_clip("bigbuckbunny.mp4"),
        title_id="bbb",
        name="Big Buck Bunny",
        genres=["animation"],
    )
    with api_client(ingesting_services) as test_client:
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
    assert reward.status_code == 200 and reward.json()["recorded"] is True
    # The endpoint only records; the learner (a thread of the single serving process) learns
    # the reward and the server swaps to the new snapshot. Catch up now rather than wait.
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    services.learner.catch_up()
    version = services.bandit.model_version
    assert version >= 1

    again = client.get("/v1/titles/bbb/artwork", params={"user_id": user, "device": "tv"})
    after = _decision(client, again.json()["artwork"]["event_id"])
    assert isinstance(after["action_ids"], list) and isinstance(after["probabilities"], list)
    index = after["action_ids"].index(rewarded)
    assert after["probabilities"][index] > before
    assert after["model_version"] == version

"""POST /v1/rewards records (the learner learns), GET /v1/decisions/{id} shows the decision."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from artwork.testing.keys import api_client, bearer, make_key
from artwork.wiring import Services


def _event(client: TestClient, user_id: str = "u1") -> str:
    body = client.get("/v1/titles/space/artwork", params={"user_id": user_id}).json()
    return str(body["artwork"]["event_id"])


def test_a_reward_is_recorded_once(client: TestClient) -> None:
    event_id = _event(client)
    first = client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"event_id", "value", "recorded", "model_version"}
    assert (body["event_id"], body["value"], body["recorded"]) == (event_id, 1.0, True)

    again = client.post("/v1/rewards", json={"event_id": event_id, "value": 0.0})
    assert again.status_code == 200
    assert (again.json()["recorded"], again.json()["value"]) == (False, 1.0)
    decision = client.get(f"/v1/decisions/{event_id}").json()
    assert (decision["reward"], decision["reward_status"]) == (1.0, "rewarded")


@pytest.mark.parametrize("settings", [{"learner": "background"}], indirect=True)
def test_a_server_learning_in_its_thread_learns_a_reward_promptly(client: TestClient) -> None:
    assert client.get("/readyz").json()["model_version"] == 0
    event_id = _event(client)
    client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})

    deadline = time.monotonic() + 20
    while client.get("/readyz").json()["model_version"] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.get("/readyz").json()["model_version"] == 1
    assert client.get(f"/v1/decisions/{_event(client)}").json()["model_version"] == 1


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ({"kind": "watch", "seconds": 45.0}, 0.0),  # qualified play: 60 s of this 60 s title
        ({"kind": "watch", "seconds": 60.0}, 1.0),
        ({"kind": "play"}, 0.0),
    ],
)
def test_play_events_are_valued_by_the_reward_definition(
    client: TestClient, body: dict[str, object], value: float
) -> None:
    response = client.post("/v1/rewards", json={"event_id": _event(client)} | body)
    assert response.status_code == 200
    assert response.json()["value"] == value


def test_a_reward_after_the_wait_window_is_409(client: TestClient, seeded: Services) -> None:
    event_id = _event(client)
    decision = seeded.bandit.log.get(event_id)
    old = replace(decision, event_id="old-event", created_at=datetime.now(UTC) - timedelta(hours=1))
    seeded.bandit.log.append(old)

    response = client.post("/v1/rewards", json={"event_id": "old-event", "value": 1.0})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "reward_window_closed"
    assert "old-event" in error["message"] and "wait window" in error["message"]
    status = client.get("/v1/decisions/old-event").json()
    assert (status["reward"], status["reward_status"]) == (None, "default")


def test_unknown_event_is_404_with_error_body(client: TestClient) -> None:
    response = client.post("/v1/rewards", json={"event_id": "no-such-event", "value": 1.0})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "event_not_found"
    assert "no-such-event" in error["message"]


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/rewards", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event_id": "x"},
        {"value": 1.0},
        {"event_id": "x", "value": "lots"},
        {"event_id": "", "value": 1.0},
        {"event_id": "x", "value": 1.0, "extra": 1},
        {"event_id": "x", "value": 1.0, "kind": "play"},
        {"event_id": "x", "value": 1.0, "seconds": 5},
        {"event_id": "x", "kind": "click"},
        {"event_id": "x", "kind": "watch", "seconds": -1},
    ],
)
def test_invalid_bodies_are_422(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/v1/rewards", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_non_finite_value_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/rewards",
        content=b'{"event_id": "x", "value": NaN}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422


def test_decision_is_logged_with_probabilities(client: TestClient) -> None:
    event_id = _event(client)
    decision = client.get(f"/v1/decisions/{event_id}").json()
    assert decision["title_id"] == "space" and decision["user_id"] == "u1"
    assert len(decision["action_ids"]) == 4
    assert sum(decision["probabilities"]) == pytest.approx(1.0)
    assert decision["chosen_variant_id"] in decision["action_ids"]
    assert decision["reward"] is None and decision["reward_status"] == "pending"
    created = datetime.fromisoformat(decision["created_at"])
    deadline = datetime.fromisoformat(decision["reward_deadline"])
    assert (deadline - created).total_seconds() == 600
    assert decision["policy"]["mode"] == "online"
    assert client.get("/v1/decisions/nope").status_code == 404


def test_a_reward_is_accepted_only_from_the_key_that_asked(seeded: Services) -> None:
    with api_client(seeded, "client") as asker:
        event_id = _event(asker)
        stranger = bearer(make_key(seeded.engine, "client", name="stranger"))
        refused = asker.post(
            "/v1/rewards", json={"event_id": event_id, "value": 0.0}, headers=stranger
        )
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "event_not_found"
        assert asker.get(f"/v1/decisions/{event_id}").json()["reward"] is None

        admin = bearer(make_key(seeded.engine, "client", "admin", name="ops"))
        spoken_for = asker.post(
            "/v1/rewards", json={"event_id": event_id, "value": 1.0}, headers=admin
        )
        assert spoken_for.status_code == 200 and spoken_for.json()["recorded"] is True

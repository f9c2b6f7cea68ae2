from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _event(client: TestClient, user_id: str = "u1") -> str:
    body = client.get("/v1/titles/space/artwork", params={"user_id": user_id}).json()
    return str(body["artwork"]["event_id"])


def test_reward_is_learned_once(client: TestClient) -> None:
    event_id = _event(client)
    first = client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
    assert first.status_code == 200
    assert first.json() == {"event_id": event_id, "value": 1.0, "learned": True, "model_version": 1}
    again = client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
    assert again.status_code == 200
    assert again.json()["learned"] is False
    assert again.json()["model_version"] == 1
    decision = client.get(f"/v1/decisions/{event_id}").json()
    assert decision["reward"] == 1.0


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
    assert decision["reward"] is None
    assert client.get("/v1/decisions/nope").status_code == 404

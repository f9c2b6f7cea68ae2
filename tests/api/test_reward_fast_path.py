"""POST /v1/rewards answered by :class:`~artwork.api.reward_fast_path.RewardFastPath`: the
plain request skips the route, and every answer is the route's own answer to the same request.

The route is reached with the same key in the ``artwork_key`` cookie (the fast path takes
bearer keys only), so each request can be asked both ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from artwork.api import reward_fast_path
from artwork.api.routes import rewards as reward_route
from artwork.app import create_app
from artwork.testing.keys import bearer, make_key
from artwork.wiring import Services

COOKIE_ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def route_calls(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Requests that reached the route (it asks ``reward_speaker`` once per request)."""
    calls: list[object] = []
    speaker = reward_route.reward_speaker

    def counting(principal: Any) -> str | None:
        calls.append(principal)
        return speaker(principal)

    monkeypatch.setattr(reward_route, "reward_speaker", counting)
    return calls


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Event ids the fast path recorded a reward for."""
    calls: list[str] = []
    record = reward_fast_path._record

    async def counting(services: Services, event_id: str, value: float, speaker: Any) -> Any:
        calls.append(event_id)
        return await record(services, event_id, value, speaker)

    monkeypatch.setattr(reward_fast_path, "_record", counting)
    return calls


def _event(remembered: TestClient, user_id: str = "u1", title: str = "space") -> str:
    body = remembered.get(f"/v1/titles/{title}/artwork", params={"user_id": user_id}).json()
    return str(body["artwork"]["event_id"])


def _by_route(
    remembered: TestClient, client_key: str, body: object, content_type: str = "application/json"
) -> Any:
    """The same request, authenticated by the cookie: answered by the route."""
    cookie = {"Authorization": "", "Cookie": f"artwork_key={client_key}", **COOKIE_ORIGIN}
    return remembered.post(
        "/v1/rewards",
        content=json.dumps(body),
        headers={"content-type": content_type, **cookie},
    )


def _comparable(response: Any) -> tuple[int, object, str | None, str | None]:
    body = response.json()
    if "error" in body:
        body["error"].pop("request_id", None)
    return (
        response.status_code,
        body,
        response.headers.get("content-type"),
        response.headers.get("retry-after"),
    )


def test_a_plain_reward_skips_the_route(remembered: TestClient, route_calls: list[object]) -> None:
    event_id = _event(remembered)

    answer = remembered.post("/v1/rewards", json={"event_id": event_id, "value": 1})

    assert answer.status_code == 200
    assert answer.json() == {
        "event_id": event_id,
        "value": 1.0,
        "recorded": True,
        "model_version": answer.json()["model_version"],
    }
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"] and answer.headers["x-content-type-options"]
    assert route_calls == []
    decision = remembered.get(f"/v1/decisions/{event_id}").json()
    assert (decision["reward"], decision["reward_status"]) == (1.0, "rewarded")


def test_answers_match_the_routes(
    remembered: TestClient, client_key: str, seeded: Services, route_calls: list[object]
) -> None:
    ours, theirs = _event(remembered, "u1"), _event(remembered, "u2")
    forged = ours[:-3] + ("AAA" if not ours.endswith("AAA") else "BBB")
    stranger = make_key(seeded.engine, "client", name="stranger")
    with TestClient(create_app(services=seeded), headers=bearer(stranger)) as other:
        strangers = _event(other, "u3")

    cases: list[tuple[str, dict[str, object], dict[str, object]]] = [
        ("a new reward", {"event_id": ours, "value": 1.0}, {"event_id": theirs, "value": 1.0}),
        ("a repeat", {"event_id": ours, "value": 0.0}, {"event_id": theirs, "value": 0.0}),
        ("an unknown id", {"event_id": "nope", "value": 1.0}, {"event_id": "nope", "value": 1.0}),
        ("a forged id", {"event_id": forged, "value": 1.0}, {"event_id": forged, "value": 1.0}),
        (
            "another client_key's event",
            {"event_id": strangers, "value": 1.0},
            {"event_id": strangers, "value": 1.0},
        ),
    ]
    for what, fast_body, route_body in cases:
        before = len(route_calls)
        fast = remembered.post("/v1/rewards", json=fast_body)
        assert len(route_calls) == before, f"{what}: the route answered the bearer request"
        by_route = _by_route(remembered, client_key, route_body)
        assert len(route_calls) == before + 1, f"{what}: the cookie request skipped the route"
        expected = _comparable(by_route)
        got = _comparable(fast)
        if fast.status_code == 200:  # the two events differ; everything else must match
            assert isinstance(got[1], dict) and isinstance(expected[1], dict)
            got[1]["event_id"] = expected[1]["event_id"]
        assert got == expected, what


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ({"value": 1.0}, "application/json", 422),  # no event id
        ({"event_id": "", "value": 1.0}, "application/json", 422),
        ({"event_id": "e", "value": True}, "application/json", 200),
        ({"event_id": "e", "value": "1"}, "application/json", 200),
        ({"event_id": "e", "value": 5.0}, "application/json", 422),  # outside the range
        ({"event_id": "e", "value": 1.0, "extra": 1}, "application/json", 422),
        ({"event_id": "e", "kind": "play"}, "application/json", 200),
        ([1, 2], "application/json", 422),
        ({"event_id": "e", "value": 1.0}, "text/plain", 422),
        ({"event_id": "e", "value": 1.0}, "application/json; charset=latin-1", 200),
    ],
)
def test_anything_else_goes_to_the_route(
    remembered: TestClient,
    client_key: str,
    fast_calls: list[str],
    body: object,
    content_type: str,
    status: int,
) -> None:
    if isinstance(body, dict) and body.get("event_id") == "e":
        body = {**body, "event_id": _event(remembered)}
    response = remembered.post(
        "/v1/rewards", content=json.dumps(body), headers={"content-type": content_type}
    )

    assert fast_calls == []
    assert response.status_code == status, response.text
    if status != 200:  # the route's own answer to the request
        by_route = _by_route(remembered, client_key, body, content_type)
        assert _comparable(response)[:2] == _comparable(by_route)[:2]


def test_malformed_json_and_a_non_finite_value_go_to_the_route(
    remembered: TestClient, route_calls: list[object], fast_calls: list[str]
) -> None:
    headers = {"content-type": "application/json"}
    broken = remembered.post("/v1/rewards", content=b'{"event_id": ', headers=headers)
    nan = remembered.post(
        "/v1/rewards", content=b'{"event_id": "e", "value": NaN}', headers=headers
    )

    assert (broken.status_code, nan.status_code) == (422, 422)
    assert broken.json()["error"]["code"] == nan.json()["error"]["code"] == "invalid_request"
    assert fast_calls == route_calls == []  # refused while the route parsed the body


def test_a_body_over_its_limit_is_refused_by_the_route(
    remembered: TestClient, fast_calls: list[str]
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is met while streaming
        yield b'{"event_id": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'", "value": 1.0}'

    response = remembered.post(
        "/v1/rewards", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert fast_calls == []


def test_the_rate_limit_applies(
    seeded: Services, client_key: str, route_calls: list[object]
) -> None:
    settings = seeded.settings.model_copy(update={"rate_limit_client": 1.0})
    with TestClient(
        create_app(settings=settings, services=seeded), headers=bearer(client_key)
    ) as remembered:
        event_id = _event(remembered)  # verifies the key (and spends a request)
        statuses = [
            remembered.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
            for _ in range(4)
        ]
    limited = statuses[-1]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert route_calls == []


def test_requests_are_counted_under_the_route(remembered: TestClient) -> None:
    remembered.post("/v1/rewards", json={"event_id": _event(remembered), "value": 1.0})

    scraped = remembered.get("/metrics").text

    assert any(
        line.startswith("artwork_http_requests_total")
        and 'route="/v1/rewards"' in line
        and 'status="200"' in line
        for line in scraped.splitlines()
    )

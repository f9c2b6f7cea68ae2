"""GET /v1/homepage answered by :class:`~artwork.api.homepage_fast_path.HomepageFastPath`: the
plain request skips the route, and every answer is the route's own answer to the same request.

The route is reached with the same key in the ``artwork_key`` cookie (the fast path takes
bearer keys only), so each request can be asked both ways.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from artwork.api.routes import homepage as homepage_route
from artwork.api.schemas import HomepagePublic
from artwork.app import create_app
from artwork.errors import OverloadedError
from artwork.testing.keys import bearer, make_key
from artwork.wiring import Services


@pytest.fixture
def route_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Members whose page the route built."""
    calls: list[str] = []
    make_context = homepage_route.make_context

    def counting(user_id: str, *args: Any) -> Any:
        calls.append(user_id)
        return make_context(user_id, *args)

    monkeypatch.setattr(homepage_route, "make_context", counting)
    return calls


def _by_route(remembered: TestClient, client_key: str, params: Any) -> Any:
    """The same request, authenticated by the cookie: answered by the route."""
    return remembered.get(
        "/v1/homepage",
        params=params,
        headers={"Authorization": "", "Cookie": f"artwork_key={client_key}"},
    )


def _shape(response: Any) -> tuple[int, object, str | None, str | None]:
    """An answer without what differs between two pages (event ids, drawn variants)."""
    body = response.json()
    if "error" in body:
        body["error"].pop("request_id", None)
    else:
        for row in body["rows"]:
            for item in row["items"]:
                artwork = item["artwork"]
                # The image's address with the drawn variant left out: the aspect's crop.
                item["artwork"] = (
                    sorted(artwork),
                    artwork["url"].replace(artwork["variant_id"], "VARIANT"),
                )
    return (
        response.status_code,
        body,
        response.headers.get("content-type"),
        response.headers.get("retry-after"),
    )


def test_a_plain_page_skips_the_route(
    remembered: TestClient, seeded: Services, route_calls: list[str]
) -> None:
    answer = remembered.get("/v1/homepage", params={"user_id": "u1", "device": "tv"})

    assert answer.status_code == 200
    assert HomepagePublic.model_validate_json(answer.content).model_dump() == answer.json()
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"] and answer.headers["x-content-type-options"]
    assert route_calls == []
    item = answer.json()["rows"][0]["items"][0]
    decision = remembered.get(f"/v1/decisions/{item['artwork']['event_id']}").json()
    assert decision["chosen_variant_id"] == item["artwork"]["variant_id"]


@pytest.mark.parametrize(
    "params",
    [
        {"user_id": "u1"},
        {"user_id": "u2", "device": "mobile", "country": "NL"},
        {"user_id": "u1", "selector": "stagewise", "aspect": "2:3"},
        {"user_id": "ünïcode member"},
    ],
)
def test_pages_match_the_routes(
    remembered: TestClient, client_key: str, route_calls: list[str], params: dict[str, str]
) -> None:
    fast = remembered.get("/v1/homepage", params=params)
    assert route_calls == []
    by_route = _by_route(remembered, client_key, params)
    assert route_calls == [params["user_id"]]

    assert _shape(fast) == _shape(by_route)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 422),  # no member
        ("user_id=", 422),
        ("user_id=%20u1", 422),  # padded
        ("user_id=u1%0A", 422),  # a trailing newline
        ("user_id=u1%00", 422),
        ("user_id=" + "m" * 129, 422),
        ("user_id=u1&selector=nope", 422),
        ("user_id=u1&aspect=169", 422),
        ("user_id=u1&device=", 422),
        ("user_id=u1&user_id=u2", 200),  # given twice
        ("user_id=u1&page=2", 200),  # a parameter the route ignores
    ],
)
def test_anything_else_goes_to_the_route(
    remembered: TestClient, client_key: str, route_calls: list[str], query: str, status: int
) -> None:
    response = remembered.get(f"/v1/homepage?{query}")

    assert response.status_code == status, response.text
    if status == 200:
        assert len(route_calls) == 1
    else:  # refused before the page: the route's own answer to the request
        assert _shape(response)[:2] == _shape(_by_route(remembered, client_key, query))[:2]


def test_keys_that_are_not_plain_go_to_the_route(seeded: Services) -> None:
    editor = make_key(seeded.engine, "editor")
    with TestClient(create_app(services=seeded)) as anyone:
        anonymous = anyone.get("/v1/homepage", params={"user_id": "u1"})
        unknown = anyone.get("/v1/homepage", params={"user_id": "u1"}, headers=bearer("awk_x.y"))
        assert anyone.get("/v1/titles", headers=bearer(editor)).is_success  # now remembered
        forbidden = anyone.get("/v1/homepage", params={"user_id": "u1"}, headers=bearer(editor))

    assert (anonymous.status_code, unknown.status_code, forbidden.status_code) == (401, 401, 403)
    assert forbidden.json()["error"]["code"] == "forbidden"


def test_errors_are_the_routes(
    remembered: TestClient, client_key: str, seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def overloaded(*args: Any, **kwargs: Any) -> Any:
        raise OverloadedError("the decision log is full; retry shortly", retry_after_s=1.0)

    monkeypatch.setattr(seeded.homepage, "page", overloaded)
    fast = remembered.get("/v1/homepage", params={"user_id": "u1"})

    assert fast.status_code == 503
    assert fast.headers["retry-after"] == "1"
    assert _shape(fast) == _shape(_by_route(remembered, client_key, {"user_id": "u1"}))


def test_the_rate_limit_applies(seeded: Services, client_key: str, route_calls: list[str]) -> None:
    settings = seeded.settings.model_copy(update={"rate_limit_client": 1.0})
    with TestClient(
        create_app(settings=settings, services=seeded), headers=bearer(client_key)
    ) as remembered:
        assert remembered.get("/v1/titles/space/artwork", params={"user_id": "u0"}).is_success
        statuses = [remembered.get("/v1/homepage", params={"user_id": "u1"}) for _ in range(4)]

    limited = statuses[-1]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert route_calls == []


def test_pages_are_counted_under_the_route(remembered: TestClient) -> None:
    assert remembered.get("/v1/homepage", params={"user_id": "u1"}).is_success

    scraped = remembered.get("/metrics").text.splitlines()

    assert any(
        line.startswith("artwork_http_requests_total")
        and 'route="/v1/homepage"' in line
        and 'status="200"' in line
        for line in scraped
    )
    assert any(line.startswith("artwork_decisions_total") for line in scraped)

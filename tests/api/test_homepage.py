from __future__ import annotations

from collections import Counter
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from artwork.api.schemas import HomepagePublic


def test_homepage_shape_and_rows(client: TestClient) -> None:
    response = client.get("/v1/homepage", params={"user_id": "u1", "device": "tv"})
    assert response.status_code == 200
    body = response.json()
    # Built as plain JSON for speed: it must still be exactly the documented model.
    assert HomepagePublic.model_validate_json(response.content).model_dump() == body
    assert body["user_id"] == "u1"
    rows = body["rows"]
    ids = [r["id"] for r in rows]
    assert ids[0] == "continue-watching"
    # u1 watched only sci-fi: that genre row outranks the non-personal popular row.
    assert ids.index("genre:sci-fi") < ids.index("popular")
    assert rows[0]["items"][0]["title_id"] == "space"
    for row in rows:
        assert set(row) == {"id", "title", "items"}
        for item in row["items"]:
            assert set(item) == {"title_id", "name", "artwork"}
            assert set(item["artwork"]) == {"variant_id", "url", "event_id"}


def test_a_title_shows_the_same_artwork_in_every_row_of_a_page(client: TestClient) -> None:
    rows = client.get("/v1/homepage", params={"user_id": "u1"}).json()["rows"]
    shown = Counter(item["title_id"] for row in rows for item in row["items"])
    # The check below means something only if some title is on the page more than once.
    assert [title for title, times in shown.items() if times > 1]
    seen: dict[str, dict[str, str]] = {}
    for row in rows:
        for item in row["items"]:
            seen.setdefault(item["title_id"], item["artwork"])
            assert item["artwork"] == seen[item["title_id"]]


@pytest.mark.parametrize("aspect", [None, "16:9", "2:3"])
def test_every_artwork_url_serves_the_image(client: TestClient, aspect: str | None) -> None:
    params = {"user_id": "u2"} | ({"aspect": aspect} if aspect else {})
    rows = client.get("/v1/homepage", params=params).json()["rows"]
    urls = {item["artwork"]["url"] for row in rows for item in row["items"]}
    assert urls
    for url in urls:
        image = client.get(urlparse(url).path)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/jpeg"
        assert image.content[:2] == b"\xff\xd8"


def test_homepage_needs_a_user_id(client: TestClient) -> None:
    response = client.get("/v1/homepage")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_html_homepage_renders_rows_with_images(client: TestClient) -> None:
    response = client.get("/", params={"user_id": "u1"})
    assert response.status_code == 200
    assert "Continue watching" in response.text
    assert response.text.count("<img ") >= 3


@pytest.mark.parametrize(
    ("settings", "learner"),
    [({}, {"process"}), ({"learner": "background"}, {"ok", "standby"})],
    indirect=["settings"],
)
def test_healthz_and_readyz(client: TestClient, learner: set[str]) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and (body["titles"], body["model_version"]) == (3, 0)
    checks = body["checks"]
    assert set(checks) == {"database", "media", "model", "learner", "decision_log"}
    # By default the learner runs in a process of its own (artwork serve starts it); learning
    # in the bandit thread it is 'standby' until that thread has taken the learner lock.
    assert checks.pop("learner") in learner
    assert set(checks.values()) == {"ok"}


def test_unknown_route_has_the_error_body(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

"""Regression tests for the attacks on the service: blank and control-character parameters,
the Host header in image URLs, oversized bodies, unbounded rewards, a stuck writer; and the
headers, request ids, health and metrics every answer carries."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from artwork.api.middleware import new_request_id
from artwork.api.routes.artwork_urls import public_base_url
from artwork.config import Settings
from artwork.testing.keys import api_client
from artwork.wiring import Services


def _event(client: TestClient, user_id: str = "u1") -> str:
    body = client.get("/v1/titles/space/artwork", params={"user_id": user_id}).json()
    return str(body["artwork"]["event_id"])


@pytest.mark.parametrize("device", [" ", "\t", "\u00a0", " tv", "tv\n", "t\x00v", "\x7f"])
@pytest.mark.parametrize(
    "path", ["/", "/v1/homepage", "/v1/titles/space/artwork"], ids=["html", "homepage", "artwork"]
)
def test_blank_and_control_parameters_are_422(client: TestClient, path: str, device: str) -> None:
    response = client.get(path, params={"user_id": "u1", "device": device})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_blank_user_id_is_422(client: TestClient) -> None:
    assert client.get("/v1/homepage", params={"user_id": "\u00a0"}).status_code == 422


def test_image_urls_ignore_the_host_header(client: TestClient, seeded: Services) -> None:
    page = client.get("/v1/homepage", params={"user_id": "u1"}, headers={"Host": "evil.example"})
    url = page.json()["rows"][0]["items"][0]["artwork"]["url"]
    assert url.startswith("http://127.0.0.1:8000/media/") and "evil" not in url


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::", "http://[::1]:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_a_wildcard_bind_address_is_no_url(host: str, base: str) -> None:
    assert public_base_url(Settings(host=host)) == base


def test_the_public_base_url_is_configurable(seeded: Services) -> None:
    seeded.settings = seeded.settings.model_copy(
        update={"public_base_url": "https://img.example.com/artwork/"}
    )
    with api_client(seeded) as client:
        page = client.get("/v1/homepage", params={"user_id": "u1"})
    url = page.json()["rows"][0]["items"][0]["artwork"]["url"]
    assert url.startswith("https://img.example.com/artwork/media/titles/")
    assert "https://img.example.com" in page.headers["content-security-policy"]


def test_security_headers_and_request_id(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/?user_id=u1"), client.get("/nope")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert len(response.headers["x-request-id"]) >= 8
    given = client.get("/v1/nothing", headers={"X-Request-ID": "req-12345678"})
    assert given.headers["x-request-id"] == "req-12345678"
    assert given.json()["error"]["request_id"] == "req-12345678"
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert forged.headers["x-request-id"] != "bad id\n"


def test_an_oversized_json_body_is_refused_while_it_streams(client: TestClient) -> None:
    declared = client.post(
        "/v1/rewards",
        content=b"{" + b" " * (65 << 10) + b"}",
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked
        yield b'{"event_id": "'
        for _ in range(200):
            yield b"x" * 1024

    streamed = client.post(
        "/v1/rewards", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("value", [1e308, -1e308, 2.0, -1.5])
def test_reward_values_outside_the_range_are_422(client: TestClient, value: float) -> None:
    response = client.post("/v1/rewards", json={"event_id": _event(client), "value": value})
    assert response.status_code == 422


def test_an_all_null_reward_is_422(client: TestClient) -> None:
    body = {"event_id": _event(client), "value": None, "kind": None, "seconds": None}
    assert client.post("/v1/rewards", json=body).status_code == 422


def test_a_stuck_writer_gives_a_fast_generic_503(client: TestClient, seeded: Services) -> None:
    event_id = _event(client)
    database = seeded.engine.url.database
    assert database is not None
    # Waits for the decision writer's own commit of the page above, then holds the lock.
    blocker = sqlite3.connect(database, timeout=10)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        assert client.get("/healthz").status_code == 200
        response = client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "storage_error" and error["request_id"]
    text = response.text.lower()
    assert "insert" not in text and "select" not in text and event_id not in response.text
    again = client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
    assert again.status_code == 200


def test_validation_errors_do_not_echo_the_input(client: TestClient) -> None:
    response = client.post("/v1/rewards", json={"event_id": "x", "value": "secret-input"})
    assert response.status_code == 422
    assert "secret-input" not in response.text


def test_metrics_are_open_and_count_requests(client: TestClient) -> None:
    client.get("/v1/homepage", params={"user_id": "u1"})
    text = TestClient(client.app).get("/metrics").text
    assert 'artwork_http_requests_total{method="GET",route="/v1/homepage",status="200"}' in text
    assert "artwork_http_request_duration_seconds_bucket" in text
    assert "artwork_model_version" in text


def test_readyz_reports_a_missing_media_folder(client: TestClient, seeded: Services) -> None:
    seeded.media.root.rename(seeded.media.root.with_name("gone"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["media"] != "ok"


def test_request_ids_made_here_are_unique_and_differ_after_a_fork() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports its first id and leaves at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    forked = os.read(read, 64).decode()
    os.close(read)
    assert forked[:16] != new_request_id()[:16]

"""The homepage's data path over HTTP: load is shed with 503 + Retry-After when the decision
log cannot keep up, and an editor's approval shows on the next page of every worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from artwork.app import create_app
from artwork.config import Settings
from artwork.domain import VariantStatus
from artwork.testing.catalog import seed_title
from artwork.testing.keys import bearer, make_key
from artwork.wiring import Services


@pytest.fixture
def home(tmp_path: Path) -> Path:
    services = Services.from_settings(Settings(home=tmp_path / "home"))
    seed_title(services.catalog, services.media, "space", variants=3, seed=1)
    seed_title(
        services.catalog, services.media, "cats", variants=2, seed=2,
        status=VariantStatus.PROPOSED,
    )  # fmt: skip
    services.close()
    return tmp_path / "home"


@pytest.fixture
def workers(home: Path) -> Iterator[tuple[TestClient, TestClient, Services]]:
    """Two serving processes' worth of services on one database."""
    settings = Settings(home=home, catalog_poll_s=0.5)
    first, second = Services.from_settings(settings), Services.from_settings(settings)
    headers = bearer(make_key(first.engine, "client"))
    with (
        TestClient(create_app(services=first), headers=headers) as a,
        TestClient(create_app(services=second), headers=headers) as b,
    ):
        yield a, b, first
    first.close()
    second.close()


def _titles(client: TestClient) -> set[str]:
    page = client.get("/v1/homepage", params={"user_id": "u1"}).json()
    return {item["title_id"] for row in page["rows"] for item in row["items"]}


def test_an_approval_shows_on_every_worker_within_two_seconds(
    workers: tuple[TestClient, TestClient, Services],
) -> None:
    first, second, services = workers
    assert "cats" not in _titles(first) and "cats" not in _titles(second)
    variant = services.catalog.variants("cats")[0]
    approved_at = time.monotonic()
    services.catalog.set_variant_status(variant.variant_id, VariantStatus.APPROVED)
    seen = {"first": False, "second": False}
    while time.monotonic() - approved_at < 2.0 and not all(seen.values()):
        seen["first"] = seen["first"] or "cats" in _titles(first)
        seen["second"] = seen["second"] or "cats" in _titles(second)
        time.sleep(0.05)
    assert seen == {"first": True, "second": True}


def test_a_full_decision_queue_sheds_load_with_retry_after(home: Path) -> None:
    services = Services.from_settings(Settings(home=home, decision_queue_size=1))
    try:
        headers = bearer(make_key(services.engine, "client"))
        with TestClient(create_app(services=services), headers=headers) as client:
            writer = services.decision_writer
            writer.close()  # nothing drains any more: the next page cannot be logged
            answer = client.get("/v1/homepage", params={"user_id": "u1"})
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "1"
            assert answer.json()["error"]["code"] == "overloaded"
    finally:
        services.close()


def test_a_decision_is_readable_at_once_from_the_process_that_made_it(
    workers: tuple[TestClient, TestClient, Services],
) -> None:
    first, _, _ = workers
    page = first.get("/v1/homepage", params={"user_id": "u9"}).json()
    event_id = page["rows"][0]["items"][0]["artwork"]["event_id"]
    assert event_id.startswith("e1.")
    decision = first.get(f"/v1/decisions/{event_id}")
    assert decision.status_code == 200 and decision.json()["event_id"] == event_id

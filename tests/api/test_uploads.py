from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from artwork.config import Settings
from artwork.services import Services
from artwork.testing.footage import sample_clip
from artwork.testing.keys import api_client


@pytest.fixture
def client(ingesting_services: Services) -> Iterator[TestClient]:
    with api_client(ingesting_services) as test_client:
        yield test_client


def _post(
    client: TestClient, path: Path, content_type: str = "video/mp4", **form: object
) -> httpx.Response:
    data = {"title_id": "bikes", "name": "Bikes", "genre": ["sports", "action"]} | form
    with path.open("rb") as handle:
        return client.post(
            "/v1/titles", data=data, files={"video": (path.name, handle, content_type)}
        )


def _leftovers(services: Services) -> list[Path]:
    roots = [services.media.root, services.settings.home / "uploads"]
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_upload_creates_the_title(client: TestClient, ingesting_services: Services) -> None:
    response = _post(client, sample_clip("bikes.mp4"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title_id"] == "bikes" and body["genres"] == ["sports", "action"]
    assert len(body["variants"]) == ingesting_services.settings.variants_per_title
    assert client.get(body["variants"][0]["url"]).status_code == 200
    assert not list((ingesting_services.settings.home / "uploads").iterdir())
    again = _post(client, sample_clip("bikes.mp4"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "title_exists"


def test_wrong_content_type_is_415(client: TestClient, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    response = _post(client, notes, content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_not_a_video_is_422_and_leaves_nothing(
    client: TestClient, ingesting_services: Services, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video " * 100)
    response = _post(client, fake)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_video"
    assert ingesting_services.catalog.count_titles() == 0
    assert _leftovers(ingesting_services) == []


def test_missing_fields_are_422(client: TestClient) -> None:
    response = client.post("/v1/titles", data={"name": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_too_large_is_413(tmp_path: Path) -> None:
    services = Services.from_settings(Settings(home=tmp_path / "home", max_upload_mb=1))
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (2 << 20))
    with api_client(services) as client:
        response = _post(client, big)
    services.close()
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"
    assert _leftovers(services) == []

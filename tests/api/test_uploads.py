"""POST /v1/titles: checked before the file is read, sniffed from its bytes, extracted as a
job followed with GET /v1/jobs/{id}; nothing is left behind by a refused or failed upload."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from artwork.catalog.jobs import JobStore
from artwork.config import Settings
from artwork.demo.footage import sample_clip
from artwork.testing.keys import api_client, bearer, make_key
from artwork.wiring import Services


@pytest.fixture
def client(ingesting_services: Services) -> Iterator[TestClient]:
    with api_client(ingesting_services) as test_client:
        yield test_client


def _post(
    client: TestClient,
    path: Path,
    content_type: str = "video/mp4",
    headers: dict[str, str] | None = None,
    **form: object,
) -> httpx.Response:
    data = {"title_id": "bikes", "name": "Bikes", "genre": ["sports", "action"]} | form
    with path.open("rb") as handle:
        return client.post(
            "/v1/titles",
            data=data,
            files={"video": (path.name, handle, content_type)},
            headers=headers,
        )


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _leftovers(services: Services) -> list[Path]:
    roots = [services.media.root, services.settings.home / "uploads"]
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_an_upload_is_extracted_as_a_job(client: TestClient, ingesting_services: Services) -> None:
    response = _post(client, sample_clip("bikes.mp4"))
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] in ("queued", "running") and job["title_id"] == "bikes"
    assert response.headers["location"] == f"/v1/jobs/{job['job_id']}"
    done = _wait(client, job["job_id"])
    assert done["state"] == "succeeded" and done["progress"] == 1.0, done
    title = client.get("/v1/titles/bikes").json()
    assert title["genres"] == ["sports", "action"]
    assert len(title["variants"]) == ingesting_services.settings.variants_per_title
    assert {v["status"] for v in title["variants"]} == {"proposed"}  # no auto-approval
    assert not [p for p in (ingesting_services.settings.home / "uploads").rglob("*") if p.is_file()]

    again = _post(client, sample_clip("bikes.mp4"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "title_exists"


def test_auto_approve_when_the_editor_asks(client: TestClient) -> None:
    response = _post(client, sample_clip("bikes.mp4"), auto_approve="true")
    assert _wait(client, response.json()["job_id"])["state"] == "succeeded"
    statuses = {v["status"] for v in client.get("/v1/titles/bikes").json()["variants"]}
    assert "approved" in statuses


def test_checks_come_before_the_file_is_read(client: TestClient, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a video at all " * 100)
    bad_id = _post(client, junk, title_id="../etc")
    assert bad_id.status_code == 422 and "title_id" in bad_id.json()["error"]["message"]
    blank = _post(client, junk, name=" ")
    assert blank.status_code == 422


def test_replace_needs_the_replace_scope(
    client: TestClient, ingesting_services: Services, tmp_path: Path
) -> None:
    first = _post(client, sample_clip("bikes.mp4"), auto_approve="true")
    assert _wait(client, first.json()["job_id"])["state"] == "succeeded"
    editor = bearer(make_key(ingesting_services.engine, "editor"))
    junk = tmp_path / "x.mp4"
    junk.write_bytes(b"DEFACED " * 64)
    refused = _post(client, junk, headers=editor, replace="true", name="DEFACED")
    assert refused.status_code == 403
    assert ingesting_services.catalog.get_title("bikes").name == "Bikes"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"hello", "text/plain"),
        (b"not a video " * 100, "video/mp4"),
        (b"#EXTM3U\n#EXTINF:10,\nfile:///etc/secret.ts\n#EXT-X-ENDLIST\n", "video/mp4"),
        (b"ffconcat version 1.0\nfile '/etc/secret.mp4'\n", "application/octet-stream"),
    ],
    ids=["text/plain", "text named .mp4", "HLS playlist", "concat list"],
)
def test_what_is_not_a_video_is_415_and_leaves_nothing(
    client: TestClient,
    ingesting_services: Services,
    tmp_path: Path,
    content: bytes,
    content_type: str,
) -> None:
    upload = tmp_path / "upload.mp4"
    upload.write_bytes(content)
    response = _post(client, upload, content_type=content_type)
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert ingesting_services.catalog.count_titles() == 0
    assert _leftovers(ingesting_services) == []


def test_a_failed_extraction_fails_the_job_without_server_paths(
    client: TestClient, ingesting_services: Services, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 4000)
    response = _post(client, broken)
    assert response.status_code == 202, response.text
    job = _wait(client, response.json()["job_id"])
    assert job["state"] == "failed" and job["message"].startswith("invalid_video")
    assert str(ingesting_services.settings.home) not in job["message"]
    assert "broken.mp4" in job["message"]
    assert ingesting_services.catalog.count_titles() == 0
    assert _leftovers(ingesting_services) == []


def test_missing_fields_and_fields_after_the_file_are_422(client: TestClient) -> None:
    response = client.post("/v1/titles", data={"name": "x"})
    assert response.status_code in (415, 422)
    late = client.post(
        "/v1/titles",
        files=[
            ("video", ("a.mp4", b"\x00\x00\x00\x18ftypisom", "video/mp4")),
            ("title_id", (None, b"late")),
            ("name", (None, b"Late")),
        ],
    )
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "invalid_input"


def test_unknown_job_is_404(client: TestClient) -> None:
    assert client.get("/v1/jobs/0000000000000000").status_code == 404


def test_too_large_is_413(tmp_path: Path) -> None:
    services = Services.from_settings(Settings(home=tmp_path / "home", max_upload_mb=1))
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\0" * (3 << 20))
    with api_client(services) as client:
        response = _post(client, big)
    services.close()
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"
    assert _leftovers(services) == []


def test_start_up_cleans_what_a_crash_left(services: Services) -> None:
    uploads = services.settings.home / "uploads"
    dead, live = uploads / "999999999", uploads / str(os.getppid())
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / "upload-abc.mp4").write_bytes(b"partial")
    job = JobStore(services.engine).create("upload", "t", "k")  # owned by this pid: a restart
    JobStore(services.engine).update(job.job_id, state="running")
    with api_client(services) as client:
        assert client.get(f"/v1/jobs/{job.job_id}").json()["state"] == "failed"
    assert not dead.exists()
    assert (live / "upload-abc.mp4").exists()  # a live process's upload is left alone

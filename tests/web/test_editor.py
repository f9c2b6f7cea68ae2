"""The editor pages: review state, one title's variants, approve/reject and upload."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from artwork.domain import VariantStatus
from artwork.testing.keys import api_client
from artwork.wiring import Services


def test_titles_list_review_state_and_search(pages: TestClient) -> None:
    html = pages.get("/editor").text
    row = re.search(r'<tr data-title-id="fresh">(.*?)</tr>', html, re.S)
    assert row, html
    assert '<td class="num proposed">3</td>' in row.group(1)
    assert '<td class="num approved">0</td>' in row.group(1)
    found = pages.get("/editor", params={"q": "ARRIV"}).text
    assert 'data-title-id="fresh"' in found and 'data-title-id="t0"' not in found
    assert "No titles match" in pages.get("/editor", params={"q": "zzz"}).text


def test_title_page_shows_variants_performance_and_buttons(
    pages: TestClient, page_services: Services
) -> None:
    html = pages.get("/editor/titles/t0").text
    variants = page_services.catalog.variants("t0")
    for v in variants:
        assert f'id="v-{v.variant_id}"' in html
    assert html.count('class="approve"') == len(variants)
    assert "take fraction" in html and "95% interval" in html
    assert '<svg class="chart interval"' in html
    assert pages.get("/editor/titles/nope").status_code == 404


def test_approve_makes_a_variant_eligible(pages: TestClient, page_services: Services) -> None:
    variant = page_services.catalog.variants("fresh")[0]
    assert pages.get("/v1/titles/fresh/artwork", params={"user_id": "m1"}).status_code == 404
    done = pages.post(
        f"/editor/variants/{variant.variant_id}/status",
        data={"status": "approved"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/editor/titles/fresh?notice=")
    assert page_services.catalog.get_variant(variant.variant_id).status is VariantStatus.APPROVED
    artwork = pages.get("/v1/titles/fresh/artwork", params={"user_id": "m1"})
    assert artwork.status_code == 200
    assert artwork.json()["artwork"]["variant_id"] == variant.variant_id
    rejected = pages.post(
        f"/editor/variants/{variant.variant_id}/status",
        data={"status": "rejected"},
        headers={"Accept": "application/json"},
    )
    assert rejected.json() == {
        "variant_id": variant.variant_id,
        "title_id": "fresh",
        "status": "rejected",
    }
    assert (
        pages.post("/editor/variants/nope/status", data={"status": "approved"}).status_code == 404
    )
    assert (
        pages.post(
            f"/editor/variants/{variant.variant_id}/status", data={"status": "maybe"}
        ).status_code
        == 422
    )


def test_upload_refuses_a_non_video_back_on_the_list(pages: TestClient, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with notes.open("rb") as handle:
        response = pages.post(
            "/editor/upload",
            data={"title_id": "n", "name": "Notes"},
            files={"video": ("notes.txt", handle, "text/plain")},
        )
    assert response.status_code == 200
    assert "content type" in response.text and "Titles to review" in response.text


@pytest.mark.slow
def test_upload_extracts_the_title_as_a_job(
    ingesting_services: Services, clip_path: Callable[[str], Path]
) -> None:
    clip = clip_path("bikes.mp4")
    with api_client(ingesting_services, "editor") as client, clip.open("rb") as handle:
        response = client.post(
            "/editor/upload",
            data={"title_id": "bikes", "name": "Bikes", "genre": ["sports", "action"]},
            files={"video": (clip.name, handle, "video/mp4")},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 202, response.text
        job = response.json()
        deadline = time.monotonic() + 300
        while job["state"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = client.get(f"/v1/jobs/{job['job_id']}").json()
    assert job["state"] == "succeeded", job
    title = ingesting_services.catalog.get_title("bikes")
    assert title.genres == ("sports", "action")
    assert len(ingesting_services.catalog.variants("bikes")) > 0

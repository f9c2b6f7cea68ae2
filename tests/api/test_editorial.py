"""Editors over the API: titles without video, variants approved and rejected, a title
deleted with its images."""

from __future__ import annotations

from fastapi.testclient import TestClient

from artwork.domain import VariantStatus
from artwork.testing.catalog import seed_title
from artwork.testing.keys import bearer, make_key
from artwork.wiring import Services


def test_import_titles_without_video(client: TestClient, seeded: Services) -> None:
    body = {
        "titles": [
            {"title_id": "nosferatu", "name": "Nosferatu", "genres": ["Horror"], "year": 1922},
            {"title_id": "space", "name": "Space again"},
        ]
    }
    response = client.post("/v1/titles/import", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == ["nosferatu"]
    assert "space" in response.json()["problems"][0]
    assert seeded.catalog.get_title("nosferatu").genres == ("horror",)
    assert client.get("/v1/titles/nosferatu/variants").json() == []
    title = client.get("/v1/titles/nosferatu").json()
    assert (title["year"], title["description"]) == (1922, None)
    # ranked, but never shown without approved artwork
    page = client.get("/v1/homepage", params={"user_id": "u1"}).json()
    shown = {i["title_id"] for r in page["rows"] for i in r["items"]}
    assert "nosferatu" not in shown and shown
    assert client.get("/v1/titles/nosferatu/artwork", params={"user_id": "u1"}).status_code == 404


def test_approve_and_reject_variants(client: TestClient, seeded: Services) -> None:
    seed_title(seeded.catalog, seeded.media, "fresh", variants=2, status=VariantStatus.PROPOSED)
    variants = client.get("/v1/titles/fresh/variants").json()
    assert {v["status"] for v in variants} == {"proposed"}
    approved = client.post(f"/v1/variants/{variants[0]['variant_id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    rejected = client.post(f"/v1/variants/{variants[1]['variant_id']}/reject")
    assert rejected.json()["status"] == "rejected"
    assert client.post("/v1/variants/nope/approve").status_code == 404
    artwork = client.get("/v1/titles/fresh/artwork", params={"user_id": "u1"}).json()
    assert artwork["artwork"]["variant_id"] == variants[0]["variant_id"]


def test_delete_a_title_with_its_media(client: TestClient, seeded: Services) -> None:
    paths = [v.image_path for v in seeded.catalog.variants("duel")]
    assert all(seeded.media.exists(p) for p in paths)
    assert client.delete("/v1/titles/duel").status_code == 204
    assert not any(seeded.media.exists(p) for p in paths)
    assert client.get("/v1/titles/duel").status_code == 404
    assert client.delete("/v1/titles/duel").status_code == 404


def test_editorial_routes_need_the_editor_scope(client: TestClient, seeded: Services) -> None:
    only_client = bearer(make_key(seeded.engine, "client"))
    assert client.delete("/v1/titles/duel", headers=only_client).status_code == 403
    assert client.post("/v1/variants/x/approve", headers=only_client).status_code == 403


def test_clients_report_plays(client: TestClient, seeded: Services) -> None:
    before = seeded.catalog.count_interactions()
    ok = client.post("/v1/interactions", json={"user_id": "u9", "title_id": "cats", "seconds": 30})
    assert ok.status_code == 201 and ok.json() == {"recorded": 1}
    assert seeded.catalog.count_interactions() == before + 1
    unknown = client.post(
        "/v1/interactions", json={"user_id": "u9", "title_id": "zz", "seconds": 1}
    )
    assert unknown.status_code == 404
    naive = {"user_id": "u9", "title_id": "cats", "seconds": 1, "timestamp": "2026-01-01T00:00:00"}
    assert client.post("/v1/interactions", json=naive).status_code == 422

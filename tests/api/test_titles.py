from __future__ import annotations

from fastapi.testclient import TestClient

from artwork.domain import VariantStatus
from artwork.wiring import Services


def test_title_artwork_for_a_member(client: TestClient, seeded: Services) -> None:
    response = client.get("/v1/titles/space/artwork", params={"user_id": "u9"})
    assert response.status_code == 200
    body = response.json()
    assert body["title_id"] == "space" and body["name"] == "Space"
    ids = {v.variant_id for v in seeded.catalog.variants("space")}
    assert body["artwork"]["variant_id"] in ids
    assert client.get(body["artwork"]["url"]).status_code == 200


def test_unknown_title_is_404_with_error_body(client: TestClient) -> None:
    response = client.get("/v1/titles/nope/artwork", params={"user_id": "u1"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "title_not_found"
    assert "nope" in response.json()["error"]["message"]


def test_title_without_approved_variants_is_404(client: TestClient, seeded: Services) -> None:
    for variant in seeded.catalog.variants("duel"):
        seeded.catalog.set_variant_status(variant.variant_id, VariantStatus.REJECTED)
    response = client.get("/v1/titles/duel/artwork", params={"user_id": "u1"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "variant_not_found"
    # ... and the title leaves the homepage rather than showing no image.
    rows = client.get("/v1/homepage", params={"user_id": "u1"}).json()["rows"]
    assert "duel" not in {i["title_id"] for r in rows for i in r["items"]}


def test_list_and_detail(client: TestClient) -> None:
    assert [t["title_id"] for t in client.get("/v1/titles").json()] == ["cats", "duel", "space"]
    detail = client.get("/v1/titles/space").json()
    assert len(detail["variants"]) == 4
    assert detail["variants"][0]["status"] == "approved"
    assert client.get("/v1/titles/nope").status_code == 404

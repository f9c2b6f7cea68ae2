"""The homepage's JSON from pieces encoded once is the JSON of the page as one structure."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from artwork.api.page_json import ITEMS_KEPT, PageEncoder
from artwork.api.routes.artwork_urls import image_path, media_url_under
from artwork.api.schemas import HomepagePublic
from artwork.homepage import ArtworkPage, make_context
from artwork.wiring import Services

BASE = "http://127.0.0.1:8000"


def reference(page: ArtworkPage, base_url: str, aspect: str | None) -> bytes:
    """The page serialised as one structure, as the route wrote it before."""
    body: dict[str, Any] = {
        "user_id": page.user_id,
        "rows": [
            {
                "id": r.row.row_id,
                "title": r.row.heading,
                "items": [
                    {
                        "title_id": c.title.title_id,
                        "name": c.title.name,
                        "artwork": {
                            "variant_id": c.variant.variant_id,
                            "url": media_url_under(base_url, image_path(c.variant, aspect)),
                            "event_id": c.decision.event_id,
                        },
                    }
                    for c in r.items
                ],
            }
            for r in page.rows
        ],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.fixture
def page(seeded: Services) -> ArtworkPage:
    built = seeded.homepage.page(make_context("u1"), principal="k1")
    assert sum(len(r.items) for r in built.rows) >= 3
    return built


ODD = ['quote " and \\ backslash', "naïve café 東京 🎬", "tab\tnew\nline\x01", "</script>", ""]


def renamed(page: ArtworkPage, name: str, event_id: str) -> ArtworkPage:
    """The page with every title called ``name`` and every event id ``event_id`` + position."""
    rows = []
    for r in page.rows:
        items = tuple(
            replace(
                c,
                title=replace(c.title, name=name),
                decision=replace(c.decision, event_id=f"{event_id}{i}"),
            )
            for i, c in enumerate(r.items)
        )
        rows.append(replace(r, row=replace(r.row, heading=name, row_id=f"{name}:row"), items=items))
    return ArtworkPage(f"member {name}", tuple(rows))


@pytest.mark.parametrize("aspect", [None, "16:9", "2:3", "1:1"])
def test_a_served_page_is_byte_for_byte_the_structure_as_json(
    page: ArtworkPage, aspect: str | None
) -> None:
    encoder = PageEncoder()
    for _ in range(2):  # encoded, then from the kept pieces
        encoded = encoder.encode(page, BASE, aspect)
        assert encoded == reference(page, BASE, aspect)
    HomepagePublic.model_validate_json(encoded)


@pytest.mark.parametrize("name", ODD)
@pytest.mark.parametrize("event_id", ["e1.AbC-_9.", 'legacy "id" \\ ', "ü"])
def test_names_and_ids_that_need_escaping_are_escaped_as_json_does(
    page: ArtworkPage, name: str, event_id: str
) -> None:
    odd = renamed(page, name, event_id)
    encoder = PageEncoder()
    assert encoder.encode(odd, BASE, None) == reference(odd, BASE, None)
    assert encoder.encode(odd, "https://cdn.example/a b", "2:3") == reference(
        odd, "https://cdn.example/a b", "2:3"
    )
    assert json.loads(encoder.encode(odd, BASE, None))["rows"][0]["title"] == name


def test_a_changed_title_aspect_or_base_url_is_encoded_again(page: ArtworkPage) -> None:
    encoder = PageEncoder()
    encoder.encode(page, BASE, None)
    for other in (renamed(page, "New name", "e1.x"), page):
        for base, aspect in ((BASE, "16:9"), ("https://cdn.example", None), (BASE, None)):
            assert encoder.encode(other, base, aspect) == reference(other, base, aspect)


def test_an_empty_page_and_a_row_without_items(page: ArtworkPage) -> None:
    encoder = PageEncoder()
    empty = ArtworkPage("u9", ())
    assert encoder.encode(empty, BASE, None) == reference(empty, BASE, None)
    hollow = ArtworkPage("u9", (replace(page.rows[0], items=()), *page.rows))
    assert encoder.encode(hollow, BASE, None) == reference(hollow, BASE, None)


def test_the_kept_pieces_start_over_when_full(
    page: ArtworkPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("artwork.api.page_json.ITEMS_KEPT", 2)
    assert ITEMS_KEPT > 2
    encoder = PageEncoder()
    for aspect in (None, "2:3", None):
        assert encoder.encode(page, BASE, aspect) == reference(page, BASE, aspect)
    assert len(encoder._items) <= 2

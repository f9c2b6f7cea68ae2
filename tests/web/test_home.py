"""The member homepage page: rows of chosen artwork, the why panel, and plays as rewards."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from artwork.wiring import Services


def _tiles(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li class="tile" data-title-id="([^"]+)" data-event-id="([^"]+)"', html)


def test_homepage_shows_rows_with_alt_text_and_why_panels(pages: TestClient) -> None:
    response = pages.get("/", params={"user_id": "m1", "device": "tv"})
    assert response.status_code == 200
    html = response.text
    assert "Continue watching" in html and "Homepage of m1 on tv" in html
    tiles = _tiles(html)
    assert {title for title, _ in tiles} >= {"t0", "t1", "t2", "t3"}
    assert "fresh" not in {title for title, _ in tiles}, "no approved artwork, not shown"
    assert 'alt="Title 0"' in html
    assert html.count("<summary>Why this image</summary>") == len(tiles)
    assert "Shown with probability" in html and "Top features behind the choice" in html
    assert '<option value="tv" selected>' in html


def test_play_records_the_reward_of_the_tile(pages: TestClient, page_services: Services) -> None:
    title_id, event_id = _tiles(pages.get("/", params={"user_id": "m1"}).text)[0]
    form = {"event_id": event_id, "title_id": title_id, "user_id": "m1", "device": "web"}
    played = pages.post("/play", data=form, headers={"Accept": "application/json"})
    assert played.status_code == 200, played.text
    body = played.json()
    assert body["recorded"] is True and body["value"] == 1.0
    assert "Recorded a play of" in body["message"]
    assert page_services.bandit.log.reward_of(event_id) == 1.0
    again = pages.post("/play", data=form, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/?user_id=m1&device=web&played=")
    page = pages.get(again.headers["location"])
    assert "already played from this page" in page.text


def test_play_of_an_unknown_event_says_so(pages: TestClient) -> None:
    form = {"event_id": "nope", "title_id": "t0", "user_id": "m1"}
    as_json = pages.post("/play", data=form, headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    as_form = pages.post("/play", data=form)
    assert as_form.status_code == 200 and "unknown event id" in as_form.text


def test_static_files_are_served_and_nothing_else(pages: TestClient) -> None:
    assert pages.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert pages.get("/static/app.css").status_code == 200
    assert pages.get("/static/missing.css").status_code == 404
    assert pages.get("/static/..%2F__init__.py").status_code == 404


def test_long_pages_show_ten_rows_then_more(pages: TestClient) -> None:
    full = pages.get("/", params={"user_id": "m1", "rows": 100}).text
    total = full.count('<section class="row-section"')
    one = pages.get("/", params={"user_id": "m1", "rows": 1}).text
    assert one.count('<section class="row-section"') == 1
    assert ("Show more rows" in one) == (total > 1)
    assert "Show more rows" not in full


def test_tiles_are_named_play_and_the_title(pages: TestClient) -> None:
    html = pages.get("/", params={"user_id": "m1"}).text
    assert '<span class="visually-hidden">Play </span><img src="/media/' in html
    assert '<span class="caption" aria-hidden="true">Title 0</span>' in html

"""The HTML homepage in a real browser (Debian's Chromium, headless): rows render, images load."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from artwork.api.auth import COOKIE_NAME
from artwork.config import Settings
from artwork.domain import Interaction
from artwork.testing.catalog import seed_title
from artwork.testing.keys import make_key
from artwork.testing.server import running_server
from artwork.wiring import Services

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("no Chromium: install it with `apt-get install chromium`")


def _browse(url: str, key: str, screenshot: Path) -> str:
    """The page's DOM once its images have loaded, visited with the key in its cookie."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": COOKIE_NAME, "value": key, "url": url}])
            page = context.new_page()
            page.goto(url, wait_until="load", timeout=60_000)
            page.wait_for_function(
                "document.body.dataset.imagesLoaded !== undefined", timeout=60_000
            )
            page.screenshot(path=str(screenshot))
            return str(page.content())
        finally:
            browser.close()


def test_homepage_renders_with_every_image_loaded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    for i, genre in enumerate(["drama", "comedy", "drama", "sci-fi"]):
        seed_title(services.catalog, services.media, f"t{i}", genres=(genre,), seed=i)
    services.catalog.add_interactions([Interaction("m1", "t0", datetime.now(UTC), 10.0, 60.0)])
    key = make_key(services.engine, "client")
    services.close()
    with running_server(home) as base:
        url = f"{base}/?user_id=m1"
        screenshot = tmp_path / "homepage.png"
        dom = _browse(url, key, screenshot)
    assert "Continue watching" in dom and "Popular" in dom
    total = re.search(r'data-images-total="(\d+)"', dom)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom)
    assert total and loaded, "the page's load handler ran"
    assert int(total.group(1)) >= 4
    assert loaded.group(1) == total.group(1)
    assert screenshot.stat().st_size > 10_000

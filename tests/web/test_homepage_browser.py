"""The HTML homepage in a real browser (Debian's Chromium, headless): rows render, images load."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from artwork.config import Settings
from artwork.domain import Interaction
from artwork.services import Services
from artwork.testing.catalog import seed_title
from artwork.testing.server import running_server

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=5000",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("no Chromium: install it with `apt-get install chromium`")


def _browse(tmp_path: Path, url: str, *flags: str) -> str:
    result = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *flags, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_homepage_renders_with_every_image_loaded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    for i, genre in enumerate(["drama", "comedy", "drama", "sci-fi"]):
        seed_title(services.catalog, services.media, f"t{i}", genres=(genre,), seed=i)
    services.catalog.add_interactions([Interaction("m1", "t0", datetime.now(UTC), 10.0, 60.0)])
    services.close()
    with running_server(home) as base:
        url = f"{base}/?user_id=m1"
        dom = _browse(tmp_path, url, "--dump-dom")
        screenshot = tmp_path / "homepage.png"
        _browse(tmp_path, url, f"--screenshot={screenshot}", "--window-size=1280,900")
    assert "Continue watching" in dom and "Popular" in dom
    total = re.search(r'data-images-total="(\d+)"', dom)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom)
    assert total and loaded, "the page's load handler ran"
    assert int(total.group(1)) >= 4
    assert loaded.group(1) == total.group(1)
    assert screenshot.stat().st_size > 10_000

"""The web pages in a real browser (Debian's headless Chromium, driven by Playwright): plays are
recorded, approvals reach the homepage, the policy page draws its charts, keyboard use and
contrast hold. A screenshot of every page is saved under ``test-artifacts/web/`` (or
``$ARTWORK_TEST_ARTIFACTS/web/``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from artwork.config import Settings
from artwork.testing.keys import bearer, make_key
from artwork.testing.server import running_server
from artwork.wiring import Services

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = {
    "homepage": "/?user_id=m1",
    "editor": "/editor",
    "editor-title": "/editor/titles/t0",
    "policy": "/policy",
    "login": "/login",
}

# The WCAG contrast ratio of every element with its own visible text against the first opaque
# background behind it; large text (24 px, or 18.66 px bold) needs 3:1, the rest 4.5:1.
CONTRAST_JS = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  let checked = 0;
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg, option, script, style, [hidden]")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    checked += 1;
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < needed) failures.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return { checked, failures };
}"""


def _artifacts() -> Path:
    root = os.environ.get("ARTWORK_TEST_ARTIFACTS")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "test-artifacts"
    folder = base / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Site:
    base: str
    key: str


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, page_seeder: Callable[[Services], None]
) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("web") / "home"
    services = Services.from_settings(Settings(home=home))
    try:
        page_seeder(services)
        key = make_key(services.engine, "client", "editor", "admin", name="reviewer")
    finally:
        services.close()
    with running_server(home) as base:
        yield Site(base, key)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium: install Debian's with `apt-get install chromium`")
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


def _log_in(page: Any, key: str, next_page: str) -> None:
    page.goto(f"/login?next={quote(next_page, safe='')}")
    page.fill("#key", key)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"**{next_page}")


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser tab, signed in with a key holding every scope."""
    context = browser.new_context(base_url=site.base, viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        _log_in(tab, site.key, "/policy")
        yield tab
    finally:
        context.close()


def test_login_then_pressing_a_title_records_its_reward(browser: Any, site: Site) -> None:
    context = browser.new_context(base_url=site.base, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto("/?user_id=m1")
        assert "/login?next=" in page.url, "without a key the page sends the browser to log in"
        page.screenshot(path=str(_artifacts() / "login.png"))
        _log_in(page, site.key, "/?user_id=m1")
        cookie = next(c for c in context.cookies() if c["name"] == "artwork_key")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        _play_first_tile(page, site)
    finally:
        context.close()


def _play_first_tile(page: Any, site: Site) -> None:
    tile = page.locator("li.tile").first
    event_id = tile.get_attribute("data-event-id")
    tile.locator(".tile-button").click()
    note = tile.locator(".played-note")
    note.wait_for(state="visible")
    assert "Recorded a play of" in note.inner_text()
    assert "Recorded a play of" in page.locator("#status").inner_text()
    tile.locator("details.why summary").click()
    assert "Shown with probability" in tile.locator("details.why").inner_text()
    page.screenshot(path=str(_artifacts() / "homepage-played.png"))
    # Through the API: the event already has its reward, so a second one is not recorded.
    again = httpx.post(
        f"{site.base}/v1/rewards",
        json={"event_id": event_id, "value": 0.0},
        headers=bearer(site.key),
    )
    assert again.status_code == 200
    assert again.json()["recorded"] is False and again.json()["value"] == 1.0


def test_keyboard_moves_between_tiles_and_rows_with_visible_focus(page: Any) -> None:
    page.goto("/?user_id=m1")
    assert page.get_by_role("button", name="Play Title 0").count() >= 1, "tiles are named"
    active = "() => document.activeElement.closest('li.tile')?.dataset.titleId ?? null"
    row_of = "() => document.activeElement.closest('ul.row')?.dataset.row ?? null"
    page.keyboard.press("Tab")  # the skip link, then on through the header to the tiles
    for _ in range(40):
        if page.evaluate(active) is not None:
            break
        page.keyboard.press("Tab")
    assert page.evaluate(active) is not None, "Tab reaches the first tile"
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert style[0] != "none" and style[1] >= 2, "focus is visible"
    rows = page.locator("ul.row")
    wide = next(i for i in range(rows.count()) if rows.nth(i).locator("li").count() > 1)
    rows.nth(wide).locator(".tile-button").first.focus()
    first = page.evaluate(active)
    page.keyboard.press("ArrowRight")
    second = rows.nth(wide).locator("li.tile").nth(1).get_attribute("data-title-id")
    assert page.evaluate(active) == second != first
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(active) == first
    if rows.count() > wide + 1:
        page.keyboard.press("ArrowDown")
        assert page.evaluate(row_of) == str(wide + 1)


def test_approving_a_variant_puts_the_title_on_the_homepage(page: Any) -> None:
    page.goto("/?user_id=m1")
    assert page.locator('li.tile[data-title-id="fresh"]').count() == 0
    page.goto("/editor/titles/fresh")
    variant = page.locator("article.variant").first
    variant.locator("button.approve").click()
    variant.locator('.state[data-status="approved"]').wait_for()
    assert variant.locator("button.approve").is_disabled()
    page.goto("/?user_id=m1")
    assert page.locator('li.tile[data-title-id="fresh"]').count() >= 1


def test_policy_page_draws_its_charts(page: Any) -> None:
    page.goto("/policy")
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    assert page.locator("svg.chart.empty").count() == 0
    assert page.locator("svg.chart circle").count() > 10
    assert page.locator("table.ope tbody tr").count() == 4


def test_every_page_meets_contrast_and_is_saved(page: Any) -> None:
    folder = _artifacts()
    for name, path in PAGES.items():
        page.goto(path)
        page.wait_for_load_state("load")
        images = page.evaluate("() => [...document.images].filter((i) => !i.naturalWidth).length")
        assert images == 0, f"{name}: broken images"
        assert page.evaluate("() => [...document.images].every((i) => i.alt)"), name
        result = page.evaluate(CONTRAST_JS)
        assert result["checked"] > 5, name
        assert result["failures"] == [], f"{name}: {result['failures']}"
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        assert (folder / f"{name}.png").stat().st_size > 10_000


def test_upload_form_reports_progress_and_refusals(page: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page.goto("/editor")
    page.set_input_files("#up-video", str(notes))
    page.fill("#up-id", "notes")
    page.fill("#up-name", "Notes")
    page.click("form.upload button[type=submit]")
    text = page.locator(".progress-text")
    text.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('.progress-text').textContent.includes('content type')"
    )
    assert page.locator(".progress").is_visible()


def test_pages_work_without_javascript(browser: Any, site: Site) -> None:
    context = browser.new_context(base_url=site.base, java_script_enabled=False)
    try:
        page = context.new_page()
        _log_in(page, site.key, "/?user_id=m1")
        page.locator("li.tile .tile-button").first.click()
        page.wait_for_url("**played=*")
        assert "Recorded a play of" in page.locator("#played").inner_text()
        page.goto("/editor/titles/t1")
        page.locator("article.variant button.reject").first.click()
        page.wait_for_url("**/editor/titles/t1?notice=*")
        assert page.locator('article.variant .state[data-status="rejected"]').count() == 1
        page.goto("/policy")
        assert page.locator("svg.chart").count() == 4
    finally:
        context.close()


def test_upload_form_follows_an_extraction_job(page: Any, tmp_path: Path) -> None:
    # The server's answer is stubbed here: an upload that answers 202 with a job, and the job
    # running, then done, as GET /v1/jobs/{id} describes it.
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0" * 1024)
    states = iter(
        [
            {"job_id": "j1", "title_id": "clip", "state": "running", "progress": 0.5},
            {"job_id": "j1", "title_id": "clip", "state": "succeeded", "progress": 1.0},
        ]
    )
    seen: list[str | None] = []

    def upload(route: Any) -> None:
        seen.append(route.request.headers.get("x-csrf-token"))
        body = route.request.post_data_buffer or b""
        assert body.count(b'name="genre"') == 2, "one field per genre"
        assert body.index(b'name="genre"') < body.index(b'name="video"'), "fields first"
        route.fulfill(status=202, json={"job_id": "j1", "title_id": "clip", "state": "queued"})

    page.route("**/editor/upload?*", upload)
    page.route("**/v1/jobs/j1", lambda route: route.fulfill(json=next(states)))
    page.goto("/editor")
    page.fill("#up-id", "clip")
    page.fill("#up-name", "Clip")
    page.fill("#up-genre", "drama, comedy")
    page.set_input_files("#up-video", str(clip))
    page.click("form.upload button[type=submit]")
    link = page.locator('.progress-text a[href="/editor/titles/clip"]')
    link.wait_for()
    assert "review its variants" in link.inner_text()
    assert seen and seen[0], "the script sends the form token in a header"

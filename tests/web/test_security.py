"""Page access by key scope, the login cookie, and form tokens (CSRF)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from artwork.app import create_app
from artwork.testing.keys import bearer, make_key
from artwork.web.login import safe_next
from artwork.web.security import require
from artwork.wiring import Services

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def anonymous(page_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=page_services)) as client:
        yield client


def _login(client: TestClient, key: str, next_page: str = "/") -> TestClient:
    form = client.get("/login", params={"next": next_page}, headers=HTML).text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token
    done = client.post(
        "/login",
        data={"key": key, "next": next_page, "login_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client


def test_without_a_key_browsers_go_to_login_and_others_get_401(anonymous: TestClient) -> None:
    for path in ("/?user_id=m1", "/editor", "/policy", "/editor/titles/t0"):
        page = anonymous.get(path, headers=HTML, follow_redirects=False)
        assert page.status_code == 303, path
        assert page.headers["location"].startswith("/login?next=%2F")
        api = anonymous.get(path, headers={"Accept": "application/json"})
        assert api.status_code == 401 and api.json()["error"]["code"] == "unauthenticated"
    assert anonymous.post("/play", data={"event_id": "e", "title_id": "t0"}).status_code == 401
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/static/app.css").status_code == 200


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("client", {"/"}),
        ("editor", {"/", "/editor", "/policy"}),
        ("admin", {"/policy"}),
    ],
)
def test_pages_by_scope(
    anonymous: TestClient, page_services: Services, scope: str, allowed: set[str]
) -> None:
    headers = bearer(make_key(page_services.engine, scope))
    for path in ("/", "/editor", "/policy"):
        status = anonymous.get(path, headers=headers).status_code
        assert status == (200 if path in allowed else 403), (scope, path)
    browser = anonymous.get("/editor", headers=headers | HTML, follow_redirects=False)
    if "/editor" not in allowed:
        assert browser.status_code == 303 and "reason=" in browser.headers["location"]


def test_login_sets_a_strict_httponly_cookie_and_returns(
    anonymous: TestClient, page_services: Services
) -> None:
    key = make_key(page_services.engine, "editor")
    form = anonymous.get("/login", params={"next": "/editor?q=t"}, headers=HTML).text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token
    done = anonymous.post(
        "/login",
        data={"key": key, "next": "/editor?q=t", "login_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/editor?q=t"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("artwork_key="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = anonymous.get("/editor", headers=HTML)
    assert page.status_code == 200 and "Signed in as test" in page.text


def test_login_refuses_bad_keys_and_forged_forms(
    anonymous: TestClient, page_services: Services
) -> None:
    key = make_key(page_services.engine, "client")
    forged = anonymous.post("/login", data={"key": key, "login_token": "x"}, follow_redirects=False)
    assert forged.status_code == 403 and "artwork_key" not in forged.headers.get("set-cookie", "")
    form = anonymous.get("/login", headers=HTML).text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token
    wrong = anonymous.post("/login", data={"key": "ak_nope", "login_token": token.group(1)})
    assert wrong.status_code == 401 and "not valid" in wrong.text


def test_cookie_posts_need_the_form_token(anonymous: TestClient, page_services: Services) -> None:
    client = _login(anonymous, make_key(page_services.engine, "client", "editor"))
    html = client.get("/?user_id=m1", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    event = re.search(r'data-title-id="([^"]+)" data-event-id="([^"]+)"', html)
    assert token and event
    form = {"event_id": event.group(2), "title_id": event.group(1), "user_id": "m1"}
    json = {"Accept": "application/json"}
    refused = client.post("/play", data=form, headers=json)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    wrong = client.post("/play", data=form | {"csrf_token": "0" * 64}, headers=json)
    assert wrong.status_code == 403
    header = client.post("/play", data=form, headers=json | {"X-CSRF-Token": token.group(1)})
    assert header.status_code == 200 and header.json()["recorded"] is True
    variant = page_services.catalog.variants("fresh")[0].variant_id
    path = f"/editor/variants/{variant}/status"
    assert client.post(path, data={"status": "approved"}).status_code == 403
    done = client.post(
        path, data={"status": "approved", "csrf_token": token.group(1)}, headers=json
    )
    assert done.status_code == 200 and done.json()["status"] == "approved"


def test_logout_clears_the_cookie(anonymous: TestClient, page_services: Services) -> None:
    client = _login(anonymous, make_key(page_services.engine, "client"))
    html = client.get("/", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert token
    assert client.post("/logout", follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_next_stays_on_this_site() -> None:
    assert safe_next("/editor?q=x") == "/editor?q=x"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "editor"):
        assert safe_next(hostile) == "/"


def test_require_names_its_scopes() -> None:
    with pytest.raises(ValueError):
        require()
    with pytest.raises(ValueError):
        require("root")


def test_navigation_offers_only_the_pages_a_key_may_open(
    anonymous: TestClient, page_services: Services
) -> None:
    admin = bearer(make_key(page_services.engine, "admin"))
    html = anonymous.get("/policy", headers=admin).text
    assert 'href="/policy"' in html
    assert 'href="/editor"' not in html and '<a href="/"' not in html

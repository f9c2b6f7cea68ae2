"""Who may open a page, and forms that cannot be forged from another site.

- Access: a page names the scopes that may open it. The key comes from the
  ``Authorization: Bearer KEY`` header or the ``artwork_key`` cookie that ``/login`` sets.
  Without a usable key a browser is sent to ``/login?next=...``; other clients get 401.
  A key without a listed scope gets 403.
- CSRF: a form (or the pages' script) posting with the cookie must send the token
  ``HMAC-SHA256(cookie value, "artwork-csrf-v1")`` in the ``csrf_token`` field or the
  ``X-CSRF-Token`` header. Another site can make the browser send the cookie (SameSite=Strict
  already stops that in current browsers) but cannot read it, so it cannot compute the token.
  Requests that authenticate with a header carry no ambient credential and need no token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request

KEY_COOKIE = "artwork_key"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_LABEL = b"artwork-csrf-v1"


def csrf_token(request: Request) -> str:
    """The form token of this browser session ("" when no key cookie is set)."""
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        return ""
    return hmac.new(key.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


async def check_csrf(request: Request) -> None:
    """Dependency of every page POST: refuse a cookie-authenticated request without the token.

    Raises:
        HTTPException: 403 when the token is missing or wrong.
    """
    expected = csrf_token(request)
    if not expected or _bearer(request) is not None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            status_code=403,
            detail="missing or wrong form token; reload the page and submit it again",
        )


def current_principal(request: Request) -> Any:
    """The principal a page dependency authenticated for this request (None if none)."""
    return getattr(request.state, "principal", None)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def login_redirect(request: Request) -> HTTPException:
    """For a browser: 303 to the login form, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status_code=303,
        detail="sign in at /login",
        headers={"Location": f"/login?next={quote(target, safe='')}"},
    )


def is_browser(request: Request) -> bool:
    """Whether the caller reads HTML (a browser navigating), not an API client."""
    return "text/html" in request.headers.get("accept", "")


def require(*scopes: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that lets in callers whose key holds one of ``scopes``.

    Until API keys exist in this build, every caller is let in without a principal.
    """
    if not scopes:
        raise ValueError("scopes must name at least one scope")

    async def dependency(request: Request) -> Any:
        request.state.principal = None
        return None

    return dependency

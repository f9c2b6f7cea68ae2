"""Who may open a page, and forms that cannot be forged from another site.

- Access: a page names the scopes that may open it (any one of them will do). The key comes
  from the ``Authorization: Bearer KEY`` header or the ``artwork_key`` cookie that ``/login``
  sets (:func:`artwork.api.auth.authenticate` checks it). Without a usable key, or with a key
  that lacks every listed scope, a browser asking for a page is sent to ``/login?next=...``;
  other clients get 401 (no key) or 403 (no scope) with the API's JSON error body.
- CSRF: a form (or the pages' script) posting with the cookie must send the token
  ``HMAC-SHA256(cookie value, "artwork-csrf-v1")`` in the ``csrf_token`` field or the
  ``X-CSRF-Token`` header. Another site can make a browser send the cookie (SameSite=Strict
  already stops that in current browsers) but cannot read it, so it cannot compute the token.
  Requests that authenticate with a header carry no ambient credential and need no token.
  The login form, posted before there is a key cookie, is tied the same way to a random
  ``artwork_login`` cookie set with the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import quote

from fastapi import HTTPException, Request, Response

from artwork.api.auth import (
    COOKIE_NAME,
    Principal,
    authenticate,
    get_key_store,
    get_rate_limiter,
)
from artwork.catalog.keys import check_scopes
from artwork.errors import AuthenticationError, PermissionDeniedError

KEY_COOKIE = COOKIE_NAME
LOGIN_COOKIE = "artwork_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_LABEL = b"artwork-csrf-v1"


def csrf_token(request: Request) -> str:
    """The form token of this browser session ("" when no key cookie is set)."""
    return _token(request.cookies.get(KEY_COOKIE))


def _token(secret: str | None) -> str:
    if not secret:
        return ""
    return hmac.new(secret.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def login_nonce(request: Request) -> tuple[str, bool]:
    """The random value the login form's token is tied to, and whether it is new (to be set
    as the ``artwork_login`` cookie with :func:`set_login_nonce`)."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    return (nonce, False) if nonce else (secrets.token_urlsafe(24), True)


def login_token(nonce: str) -> str:
    """The login form's token for ``nonce``."""
    return _token(nonce)


def set_login_nonce(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=is_https(request)
    )


def check_login_token(request: Request, sent: str) -> bool:
    """Whether ``sent`` is the token of this browser's login form."""
    expected = _token(request.cookies.get(LOGIN_COOKIE))
    return bool(expected) and hmac.compare_digest(sent, expected)


def is_https(request: Request) -> bool:
    """Whether the page was served over https (cookies are then marked Secure)."""
    return request.url.scheme == "https"


async def check_csrf(request: Request) -> None:
    """Dependency of every page POST: refuse a cookie-authenticated request without the token.

    Raises:
        PermissionDeniedError: 403 when the token is missing or wrong.
    """
    expected = csrf_token(request)
    if not expected or _bearer(request) is not None:
        return
    sent = request.headers.get(CSRF_HEADER) or request.query_params.get(CSRF_FIELD)
    # Only a small url-encoded form is read here: a multipart body is an upload that streams
    # to its route, so its token comes in the header (script) or the form's action URL.
    if sent is None and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent, expected):
        raise PermissionDeniedError(
            "missing or wrong form token; reload the page and submit the form again"
        )


def current_principal(request: Request) -> Principal | None:
    """The principal a page dependency authenticated for this request (None if none)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def login_redirect(request: Request, reason: str = "") -> HTTPException:
    """For a browser: 303 to the login form, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='')}"
    if reason:
        location += f"&reason={quote(reason, safe='')}"
    return HTTPException(
        status_code=303, detail="sign in at /login", headers={"Location": location}
    )


def is_browser(request: Request) -> bool:
    """Whether the caller reads HTML (a browser navigating), not an API client."""
    return "text/html" in request.headers.get("accept", "")


def require(*scopes: str) -> Callable[[Request], Principal]:
    """A dependency that lets in callers whose key holds at least one of ``scopes``.

    Raises:
        ValueError: ``scopes`` is empty or names an unknown scope.
        (From the dependency) HTTPException: 303 to ``/login`` for a browser page request;
            AuthenticationError (401), PermissionDeniedError (403) or RateLimitedError (429)
            for other requests.
    """
    if not scopes:
        raise ValueError("scopes must name at least one scope")
    allowed = check_scopes(scopes)
    listed = " or ".join(sorted(allowed))

    def dependency(request: Request) -> Principal:
        raw = _bearer(request) or request.cookies.get(KEY_COOKIE)
        page = is_browser(request) and request.method == "GET"
        try:
            principal = authenticate(get_key_store(request), raw)
        except AuthenticationError:
            if page:
                raise login_redirect(request) from None
            raise
        request.state.principal = principal
        held = sorted(allowed & principal.scopes)
        if not held:
            message = f"the key {principal.name!r} cannot open this page: it needs {listed}"
            if page:
                raise login_redirect(request, message)
            raise PermissionDeniedError(message + "; sign in with another key")
        get_rate_limiter(request).take(principal.key_id, held[0])
        return principal

    dependency.__name__ = f"page_access_{'_'.join(sorted(allowed))}"
    return dependency

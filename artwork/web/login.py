"""``/login`` and ``/logout``: enter an API key once, keep it in an HttpOnly cookie.

The key is checked before the cookie is set (HttpOnly, SameSite=Strict, Secure when the page
came over https), then the browser goes back to the page that sent it here (a local path only).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from artwork.api.auth import Principal, authenticate, get_key_store
from artwork.errors import AuthenticationError
from artwork.web.rendering import TEMPLATES
from artwork.web.security import (
    KEY_COOKIE,
    LOGIN_COOKIE,
    check_csrf,
    check_login_token,
    is_https,
    login_nonce,
    login_token,
    set_login_nonce,
)

router = APIRouter(include_in_schema=False)
Next = Annotated[str, Query(max_length=2048)]


def safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirects)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form(request: Request, next_page: str, message: str = "", status: int = 200) -> Response:
    nonce, new = login_nonce(request)
    page = TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {
            "principal": None,
            "csrf_token": "",
            "login_token": login_token(nonce),
            "next": safe_next(next_page),
            "message": message,
        },
        status_code=status,
    )
    if new:
        set_login_nonce(request, page, nonce)
    return page


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Next = "/", reason: Next = "") -> Response:
    return _form(request, next, reason)


@router.post("/login")
def login(
    request: Request,
    key: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2048)] = "/",
    login_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not check_login_token(request, login_token):
        return _form(request, next, "The form expired: enter the key again.", status=403)
    try:
        principal: Principal = authenticate(get_key_store(request), key.strip())
    except AuthenticationError:
        return _form(request, next, "That key is not valid (unknown or revoked).", status=401)
    target = safe_next(next)
    if target == "/" and not principal.scopes & {"client", "editor"}:
        target = "/policy"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        KEY_COOKIE,
        key.strip(),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(KEY_COOKIE, path="/", httponly=True, samesite="strict")
    return response

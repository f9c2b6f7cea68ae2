"""What every request passes through: a request id, body limits, security headers, metrics,
an access log line, and a generic 500 for anything unexpected.

Body limits are enforced while the body streams in: a declared ``Content-Length`` over the
limit is refused before a byte is read, and a body that grows past it stops there (413
``body_too_large``). JSON bodies get ``ARTWORK_MAX_BODY_KB``; ``POST /v1/titles`` (the video
upload) gets ``ARTWORK_MAX_UPLOAD_MB``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import secrets
import time
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from artwork.api import metrics
from artwork.api.logs import REQUEST_ID
from artwork.config import Settings

access_log = logging.getLogger("artwork.access")
logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UPLOAD_ROUTES = frozenset({("POST", "/v1/titles"), ("POST", "/editor/upload")})
MULTIPART_OVERHEAD = 1 << 20  # form fields and part headers around the video

_DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


_id_prefix = secrets.token_hex(8)
_id_counter = itertools.count()


def new_request_id() -> str:
    """A request id for a request that brings none: 32 hex digits, a random prefix per process
    and a counter. Unique without a system call per request (``uuid4`` reads the kernel's
    random source every time); an id names a request in the logs and is no secret."""
    return f"{_id_prefix}{next(_id_counter):016x}"


def _new_id_prefix() -> None:
    """After a fork: the child must not repeat its parent's ids."""
    global _id_prefix, _id_counter
    _id_prefix, _id_counter = secrets.token_hex(8), itertools.count()


os.register_at_fork(after_in_child=_new_id_prefix)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes its limit; an HTTP error so that FastAPI's
    body parsing passes it on unchanged."""

    def __init__(self, limit: int, code: str = "body_too_large") -> None:
        setting = "ARTWORK_MAX_UPLOAD_MB" if code == "upload_too_large" else "ARTWORK_MAX_BODY_KB"
        super().__init__(413, f"the request body is over its limit of {_size(limit)} ({setting})")
        self.code = code
        self.limit = limit


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{max(1, limit >> 10)} KB"


def security_headers(settings: Settings) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers every response carries, and the CSP of the API documentation pages."""
    images = "'self' data:"
    if settings.public_base_url:
        parts = urlsplit(settings.public_base_url)
        images += f" {parts.scheme}://{parts.netloc}"
    csp = (
        f"default-src 'self'; img-src {images}; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    common = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]
    return common, _DOCS_CSP.encode()


class RequestMiddleware:
    """The outermost layer of the app (inside Starlette's own error middleware).

    Args:
        app: the application.
        settings: body limits and the public base URL (for the CSP).
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.json_limit = settings.max_body_kb << 10
        self.upload_limit = (settings.max_upload_mb << 20) + MULTIPART_OVERHEAD
        self.headers, self.docs_csp = security_headers(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = request_header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else new_request_id()
        token = REQUEST_ID.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        method, path = scope["method"], scope["path"]
        upload = (method, path) in UPLOAD_ROUTES
        limit = self.upload_limit if upload else self.json_limit
        too_large = BodyTooLarge(limit, "upload_too_large" if upload else "body_too_large")
        status = 500
        response_started = False
        docs = path in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {b"x-request-id", b"content-security-policy"}
                ]
                headers += [(b"x-request-id", request_id.encode())]
                for name, value in self.headers:
                    if name == b"content-security-policy" and docs:
                        value = self.docs_csp
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = request_header(scope, b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                if declared.isdigit():
                    code, message = too_large.code, too_large.detail
                else:
                    code, message = "invalid_request", "the Content-Length header is not a number"
                status = 413 if declared.isdigit() else 400
                await _send_error(send_with_headers, status, code, message, request_id)
            else:
                await self.app(scope, _limited(receive, too_large), send_with_headers)
        except Exception:
            logger.exception("unexpected error answering %s %s", method, path)
            if response_started:
                raise
            await _send_error(
                send_with_headers,
                500,
                "internal_error",
                "the service failed to answer; report the request id",
                request_id,
            )
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            metrics.record_request(route, method, status, seconds)
            if access_log.isEnabledFor(logging.INFO):  # off by default (ARTWORK_ACCESS_LOG)
                access_log.info(
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={"method": method, "route": route, "status": status, "seconds": seconds},
                )
            REQUEST_ID.reset(token)


def _limited(receive: Receive, too_large: BodyTooLarge) -> Receive:
    limit = too_large.limit
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large
        return message

    return wrapped


def request_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case) of a request, or None."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _send_error(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    body = json.dumps(
        {"error": {"code": code, "message": message, "request_id": request_id}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def record_route(request: Request) -> None:
    """An app-wide dependency: note the matched route's template for the middleware (the
    ``state`` dict is shared with the middleware's scope), a bounded label set for metrics."""
    route = request.scope.get("route")
    request.scope.setdefault("state", {})["route"] = str(getattr(route, "path", "unmatched"))


def route_of(scope: Scope) -> str:
    """The template recorded by :func:`record_route`; ``/media`` for images; else
    ``unmatched``."""
    recorded = scope.get("state", {}).get("route")
    if recorded:
        return str(recorded)
    return "/media" if scope.get("path", "").startswith("/media/") else "unmatched"

"""The one place artwork errors become HTTP responses, all with the body of ``ErrorPublic``.

Every error body carries the request id. Storage and model failures (503) answer with a
generic message: what failed (SQL, paths, parameters) goes to the log under the request id,
never to the caller.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from artwork.api.logs import REQUEST_ID
from artwork.errors import (
    ArtworkError,
    AuthenticationError,
    BodyTooLargeError,
    ConflictError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitedError,
    StorageError,
    UnsupportedMediaError,
    UploadTooLargeError,
)

logger = logging.getLogger(__name__)

# First match wins: specific kinds before their parents.
STATUS_BY_ERROR: tuple[tuple[type[ArtworkError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (UnsupportedMediaError, 415),
    (UploadTooLargeError, 413),
    (BodyTooLargeError, 413),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (ModelError, 503),
    (StorageError, 503),
)

_HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}

UNAVAILABLE = "the service cannot use its storage or model right now; retry shortly"


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if request_id := REQUEST_ID.get():
        body["request_id"] = request_id
    return {"error": body}


def status_for(exc: ArtworkError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


def artwork_error_response(method: str, path: str, exc: ArtworkError) -> JSONResponse:
    """The response to an artwork error raised answering ``method path``."""
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimitedError | OverloadedError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    message = exc.message
    if status >= 500:
        logger.error("%s %s: %s", method, path, exc.message)
        message = UNAVAILABLE
    return JSONResponse(error_body(exc.code, message), status_code=status, headers=headers)


def database_error_response(method: str, path: str, exc: SQLAlchemyError) -> JSONResponse:
    """The response to a database failure answering ``method path`` (the details are logged,
    not returned)."""
    logger.error("%s %s: database error: %s", method, path, exc)
    return JSONResponse(error_body("storage_error", UNAVAILABLE), status_code=503)


def install_error_handlers(app: FastAPI) -> None:
    """Map artwork errors, validation errors and HTTP errors to ``{"error": {...}}`` bodies."""

    @app.exception_handler(ArtworkError)
    async def _artwork_error(request: Request, exc: ArtworkError) -> JSONResponse:
        return artwork_error_response(request.method, request.url.path, exc)

    @app.exception_handler(SQLAlchemyError)
    async def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        return database_error_response(request.method, request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # loc, msg and type only: never the input (it may be large or sensitive).
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"]) or "request"
        return JSONResponse(
            error_body("invalid_request", f"{where}: {first['msg']}", errors), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or _HTTP_CODES.get(
            exc.status_code, f"http_{exc.status_code}"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

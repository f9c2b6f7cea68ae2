"""The one place artwork errors become HTTP responses, all with the body of ``ErrorPublic``."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = jsonable_encoder(details)
    return {"error": body}


def status_for(exc: ArtworkError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Map artwork errors, validation errors and HTTP errors to ``{"error": {...}}`` bodies."""

    @app.exception_handler(ArtworkError)
    async def _artwork_error(_request: Request, exc: ArtworkError) -> JSONResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, RateLimitedError | OverloadedError):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=status_for(exc), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"]) or "request"
        return JSONResponse(
            error_body("invalid_request", f"{where}: {first['msg']}", errors), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

"""The error responses routes document in the OpenAPI schema, with their example bodies."""

from __future__ import annotations

from typing import Any

from artwork.api.schemas import ErrorPublic


def _error(code: str, message: str, description: str) -> dict[str, Any]:
    return {
        "model": ErrorPublic,
        "description": description,
        "content": {"application/json": {"example": {"error": {"code": code, "message": message}}}},
    }


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses for ``statuses`` (each with its example body)."""
    return {status: ERRORS[status] for status in statuses}


ERRORS: dict[int, dict[str, Any]] = {
    400: _error("invalid_request", "the request could not be parsed", "A malformed body."),
    401: _error(
        "unauthenticated",
        "this endpoint needs an API key: send 'Authorization: Bearer KEY'",
        "No API key, or an unknown or revoked one.",
    ),
    403: _error("forbidden", "this API key lacks the 'editor' scope", "The key lacks the scope."),
    404: _error("not_found", "no title 'x' in the catalogue", "The named thing does not exist."),
    409: _error("conflict", "title 'x' already exists", "The request clashes with stored state."),
    413: _error("body_too_large", "the request body is over 64 KB", "The body is too large."),
    415: _error("unsupported_media_type", "upload is not a video", "The upload is not a video."),
    422: _error("invalid_request", "query.user_id: must not be blank", "An invalid request."),
    429: _error(
        "rate_limited",
        "too many client requests for this key; retry in 1 s",
        "The key spent its request budget; see Retry-After.",
    ),
    503: _error(
        "storage_error",
        "the service cannot reach its storage right now; retry shortly",
        "Storage or model unavailable; details are in the server log under the request id.",
    ),
}

#: What every authenticated route can answer.
AUTH = (401, 403, 413, 422, 429, 503)
#: What a route taking a JSON body can answer besides: a body that is not JSON.
BODY = (400,)

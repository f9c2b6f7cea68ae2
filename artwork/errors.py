"""Every error artwork raises on purpose, in one tree.

::

    ArtworkError                    base; ``code`` is the stable machine-readable name
     ├── InvalidInputError          the caller gave something unusable (HTTP 400/422)
     │    ├── VideoError            missing, empty, corrupt or stream-less video file
     │    ├── UnsupportedMediaError an upload whose content type is not a video (HTTP 415)
     │    ├── UploadTooLargeError   an upload over ARTWORK_MAX_UPLOAD_MB (HTTP 413)
     │    ├── ImportFormatError     a data file (CSV, DSJSON) that cannot be read at all
     │    └── BodyTooLargeError     a request body over its limit (HTTP 413)
     ├── AuthenticationError        no API key, or an unknown or revoked one (HTTP 401)
     ├── PermissionDeniedError      the key lacks the scope the request needs (HTTP 403)
     ├── RateLimitedError           the key spent its request budget; retry later (HTTP 429)
     ├── NotFoundError              a named thing does not exist (HTTP 404)
     │    ├── TitleNotFoundError
     │    ├── VariantNotFoundError
     │    ├── EventNotFoundError
     │    ├── KeyNotFoundError
     │    └── JobNotFoundError
     ├── ConflictError              the request clashes with stored state (HTTP 409)
     │    ├── TitleExistsError
     │    └── RewardWindowClosedError  a reward came after its decision's wait window
     ├── ModelError                 a model artifact cannot be used (HTTP 503)
     │    ├── WeightsNotFoundError
     │    └── ChecksumMismatchError
     ├── StorageError               the database or media folder failed (HTTP 503)
     │    └── OverloadedError       the decision log's queue is full: shed load (HTTP 503 +
     │                              Retry-After)
     └── RemoteError                another artwork service refused a request or is unreachable

Messages say what was wrong and what to do about it. The API layer alone maps these to HTTP
responses (``artwork.api.errors``); the CLI prints ``message`` on one line and exits non-zero.
"""

from __future__ import annotations


class ArtworkError(Exception):
    """Base of every deliberate artwork error."""

    code = "artwork_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(ArtworkError):
    code = "invalid_input"


class VideoError(InvalidInputError):
    code = "invalid_video"


class UnsupportedMediaError(InvalidInputError):
    code = "unsupported_media_type"


class UploadTooLargeError(InvalidInputError):
    code = "upload_too_large"


class ImportFormatError(InvalidInputError):
    code = "invalid_import_file"


class BodyTooLargeError(InvalidInputError):
    code = "body_too_large"


class AuthenticationError(ArtworkError):
    code = "unauthenticated"


class PermissionDeniedError(ArtworkError):
    code = "forbidden"


class RateLimitedError(ArtworkError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NotFoundError(ArtworkError):
    code = "not_found"


class TitleNotFoundError(NotFoundError):
    code = "title_not_found"


class VariantNotFoundError(NotFoundError):
    code = "variant_not_found"


class EventNotFoundError(NotFoundError):
    code = "event_not_found"


class KeyNotFoundError(NotFoundError):
    code = "key_not_found"


class JobNotFoundError(NotFoundError):
    code = "job_not_found"


class ConflictError(ArtworkError):
    code = "conflict"


class TitleExistsError(ConflictError):
    code = "title_exists"


class RewardWindowClosedError(ConflictError):
    code = "reward_window_closed"


class ModelError(ArtworkError):
    code = "model_unavailable"


class WeightsNotFoundError(ModelError):
    code = "weights_not_found"


class ChecksumMismatchError(ModelError):
    code = "checksum_mismatch"


class StorageError(ArtworkError):
    code = "storage_error"


class OverloadedError(StorageError):
    """The log cannot keep up: the request is refused rather than queued without bound.

    ``retry_after_s`` is how long a client should wait before trying again.
    """

    code = "overloaded"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RemoteError(ArtworkError):
    code = "remote_error"

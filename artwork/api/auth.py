"""Who is calling: API keys with scopes, read from a bearer token or the ``artwork_key`` cookie.

Clients send ``Authorization: Bearer KEY``; browser pages carry the same key in an HttpOnly
cookie named ``artwork_key`` (set by the login page). A POST or DELETE authenticated by the
cookie alone must carry an ``Origin`` (or ``Referer``) of this service (403 otherwise), so
another site cannot make a browser spend its cookie. A route declares the scope it needs
with one of the ``Annotated`` aliases in :mod:`artwork.api.deps` (``ClientKey``,
``EditorKey``, ``AdminKey``), built by :func:`require_scopes`:

- no key, or an unknown or revoked one: 401 ``unauthenticated`` (with ``WWW-Authenticate``);
- a key without the scope: 403 ``forbidden``;
- a key over its request budget: 429 ``rate_limited`` with ``Retry-After`` (a token bucket
  per key and scope, ``ARTWORK_RATE_LIMIT_<SCOPE>`` requests per second, bursts of
  ``ARTWORK_RATE_LIMIT_BURST_S`` seconds' worth).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from artwork.catalog.keys import SCOPES, KeyStore, check_scopes
from artwork.config import Settings
from artwork.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
)

COOKIE_NAME = "artwork_key"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `artwork keys create`: `Authorization: Bearer ak_...`.",
)
_cookie = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    scheme_name="ApiKeyCookie",
    description="The same key in an HttpOnly cookie, as the web pages send it.",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the id of the key it presented (never the key), its name and scopes."""

    key_id: str
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def authenticate(keys: KeyStore, raw: str | None) -> Principal:
    """The principal behind the key text ``raw``.

    Raises:
        AuthenticationError: no key, or a malformed, unknown or revoked one.
    """
    if not raw:
        raise AuthenticationError(
            "this endpoint needs an API key: send 'Authorization: Bearer KEY' with a key from "
            "`artwork keys create`"
        )
    record = keys.verify(raw)
    return Principal(record.key_id, record.name, record.scopes)


def reward_speaker(principal: Principal) -> str | None:
    """Whom a reward from ``principal`` is checked against (``ArtworkBandit.reward``'s
    ``principal``).

    A reward is accepted from the key that asked for the decision (the ``principal`` claim of
    its event id), from any key when the decision was made without one (made before keys, or
    in-process), and from an ``admin`` key, which may speak for every key (``None``: no check).
    Any other key gets the answer of an unknown event id, so a stranger learns nothing about
    other keys' decisions.
    """
    return None if principal.has("admin") else principal.key_id


class RateLimiter:
    """Token buckets per key and scope; thread-safe, in this process's memory.

    Args:
        rates: requests per second by scope; 0 (or a missing scope) means no limit.
        burst_s: the bucket holds this many seconds' worth of requests (at least one).
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        burst_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rates = dict(rates)
        self._burst_s = burst_s
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        rates = {
            "client": settings.rate_limit_client,
            "editor": settings.rate_limit_editor,
            "admin": settings.rate_limit_admin,
        }
        return cls(rates, settings.rate_limit_burst_s)

    def take(self, key_id: str, scope: str) -> None:
        """Spend one request of ``key_id``'s budget for ``scope``.

        Raises:
            RateLimitedError: the bucket is empty; ``retry_after_s`` says when it is not.
        """
        rate = self._rates.get(scope, 0.0)
        if rate <= 0:
            return
        capacity = max(1.0, rate * self._burst_s)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get((key_id, scope), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[(key_id, scope)] = (tokens, now)
                wait = (1.0 - tokens) / rate
                raise RateLimitedError(
                    f"too many {scope} requests for this key; retry in {math.ceil(wait)} s",
                    retry_after_s=wait,
                )
            self._buckets[(key_id, scope)] = (tokens - 1.0, now)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin(request: Request) -> None:
    """A browser sends the cookie with requests other sites make it send (CSRF): a change
    authenticated by the cookie alone must come from a page of this service."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(origin)
    if not parts.netloc or parts.netloc != request.headers.get("host", ""):
        raise PermissionDeniedError(
            "a change authenticated by the artwork_key cookie must come from this service's "
            "own pages (Origin); API clients send 'Authorization: Bearer KEY'"
        )


def get_key_store(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def require_scopes(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and insists on every scope in ``scopes``.

    Raises (from the dependency):
        AuthenticationError: 401. PermissionDeniedError: 403. RateLimitedError: 429.
    """
    needed = check_scopes(scopes)
    listed = ", ".join(s for s in SCOPES if s in needed)

    async def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        cookie: Annotated[str | None, Security(_cookie)],
    ) -> Principal:
        raw = bearer.credentials if bearer is not None else cookie
        if bearer is None and cookie and request.method not in SAFE_METHODS:
            _same_origin(request)
        # A key verified a moment ago is answered here; one that needs the database is
        # verified on a worker thread, off the event loop.
        keys = get_key_store(request)
        record = keys.remembered(raw) if raw else None
        if record is not None:
            principal = Principal(record.key_id, record.name, record.scopes)
        else:
            principal = await run_in_threadpool(authenticate, keys, raw)
        request.state.principal = principal
        missing = sorted(needed - principal.scopes)
        if missing:
            raise PermissionDeniedError(
                f"this API key lacks the {missing[0]!r} scope this endpoint needs ({listed}); "
                "create a key with `artwork keys create --scope " + missing[0] + "`"
            )
        limiter = get_rate_limiter(request)
        for scope in sorted(needed):
            limiter.take(principal.key_id, scope)
        return principal

    dependency.__name__ = f"require_{'_'.join(sorted(needed))}"
    return dependency

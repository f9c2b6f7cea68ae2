"""``GET /v1/homepage`` without the framework's per-request work, for the request every app
open makes.

Through FastAPI a page spent about two milliseconds of the event loop's CPU in the framework
(routing, solving the dependency tree, validating five query parameters, a worker thread
through the dependency machinery) beside the page itself. :class:`HomepageFastPath` answers
the common request itself, with the calls the route makes:

- presented with ``Authorization: Bearer KEY``, a key this process has verified lately
  (:meth:`~artwork.catalog.keys.KeyStore.remembered`) and that holds the ``client`` scope;
- a query of ``user_id`` and optionally ``device``, ``country``, ``selector`` and ``aspect``,
  each once, each passing the route's own rules (:mod:`artwork.api.params`).

Rate limiting, the page (:meth:`HomepageService.page` in a worker thread), its JSON
(:func:`artwork.api.routes.homepage.homepage_json`), the decision metrics and the error
responses are the route's own. Every other request goes on to the route unchanged, so one
place defines those answers. The layer sits inside
:class:`~artwork.api.middleware.RequestMiddleware`: request ids, security headers, request
metrics and the access log apply as to any request.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import parse_qsl

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from artwork.api.auth import Principal, RateLimiter
from artwork.api.errors import artwork_error_response, database_error_response
from artwork.api.fast_path import SCOPE, ClientFastPath, send_json
from artwork.api.params import PRINTABLE
from artwork.api.routes.artwork_urls import ASPECT, public_base_url
from artwork.api.routes.homepage import SELECTOR, homepage_json
from artwork.domain import Context
from artwork.errors import ArtworkError
from artwork.homepage import make_context
from artwork.wiring import Services

PATH = "/v1/homepage"
_PRINTABLE = re.compile(PRINTABLE)
#: Each parameter the fast path answers: its longest length and its rule.
_RULES: dict[str, tuple[int, re.Pattern[str]]] = {
    "user_id": (128, _PRINTABLE),
    "device": (64, _PRINTABLE),
    "country": (64, _PRINTABLE),
    "selector": (64, re.compile(SELECTOR)),
    "aspect": (7, re.compile(ASPECT)),
}


class HomepageFastPath(ClientFastPath):
    """ASGI layer that answers plain ``GET /v1/homepage`` requests (see the module docstring)
    and hands every other request to ``app`` untouched."""

    method = "GET"
    path = PATH

    async def answer(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal
    ) -> None:
        query = _plain_query(scope["query_string"])
        if query is None:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        scope.setdefault("state", {}).update(route=PATH, principal=principal)
        services: Services = state.services
        limiter: RateLimiter = state.rate_limiter
        try:
            limiter.take(principal.key_id, SCOPE)
            context = make_context(
                query["user_id"], query.get("device", "unknown"), query.get("country", "unknown")
            )
            body = await run_in_threadpool(
                partial(
                    _page_json,
                    services,
                    context,
                    query.get("selector"),
                    principal.key_id,
                    public_base_url(state.settings),
                    query.get("aspect"),
                )
            )
        except ArtworkError as exc:
            response: Response = artwork_error_response("GET", PATH, exc)
        except SQLAlchemyError as exc:
            response = database_error_response("GET", PATH, exc)
        else:
            await send_json(send, body)
            return
        await response(scope, receive, send)


def _page_json(
    services: Services,
    context: Context,
    selector: str | None,
    principal: str,
    base_url: str,
    aspect: str | None,
) -> bytes:
    """The page built and written as JSON, in a worker thread as the route does it."""
    page = services.homepage.page(context, selector=selector, principal=principal)
    return homepage_json(page, base_url, aspect)


def _plain_query(raw: bytes) -> dict[str, str] | None:
    """The query's parameters when each is one the route takes, given once and valid by its
    rules, with ``user_id`` among them; else None (the route answers)."""
    query: dict[str, str] = {}
    # As Starlette reads a query string (percent-decoded as UTF-8, blank values kept).
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        rule = _RULES.get(name)
        if rule is None or name in query or not 1 <= len(value) <= rule[0]:
            return None
        if rule[1].fullmatch(value) is None:
            return None
        query[name] = value
    return query if "user_id" in query else None

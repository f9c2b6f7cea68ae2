"""``POST /v1/rewards`` without the framework's per-request work, for the request clients make
all day long.

Clients post a reward for most decisions they are shown, so this endpoint sees several requests
per page. Through FastAPI a reward spent most of its CPU in the framework (routing, solving
the dependency tree, validating the body into a model and the answer out of one), not in
recording it. :class:`RewardFastPath` answers the common request itself, with the calls the
route makes:

- presented with ``Authorization: Bearer KEY``, a key this process has verified lately
  (:meth:`~artwork.catalog.keys.KeyStore.remembered`) and that holds the ``client`` scope;
- a body of content type ``application/json`` that is exactly ``{"event_id": str, "value":
  number}``, the value finite and within the accepted range (``ARTWORK_REWARD_MIN`` ..
  ``ARTWORK_REWARD_MAX``).

Rate limiting, the key's speaker check, recording (:meth:`ArtworkBandit.reward_async`, or
:meth:`ArtworkBandit.reward` in a worker thread where the answer needs the database), the
reward metrics and error responses are the route's own (:mod:`artwork.api.errors`). Every
other request (a cookie, a key to look up in the database, a ``kind``, a body the schema
refuses) goes on to the route unchanged, its body replayed, so one place defines those
answers. The layer sits inside :class:`~artwork.api.middleware.RequestMiddleware`: request ids,
body limits, security headers, request metrics and the access log apply as to any request.
"""

from __future__ import annotations

import json
import math
from functools import partial
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from artwork.api import metrics
from artwork.api.auth import Principal, RateLimiter, reward_speaker
from artwork.api.errors import artwork_error_response, database_error_response
from artwork.api.fast_path import SCOPE, ClientFastPath, send_json
from artwork.api.middleware import BodyTooLarge, request_header
from artwork.api.schemas import REWARD_VALUE_BOUND
from artwork.bandit.artwork_bandit import RewardOutcome
from artwork.bandit.event_ids import MAX_EVENT_ID_CHARS
from artwork.errors import ArtworkError
from artwork.wiring import Services

PATH = "/v1/rewards"
_FIELDS = frozenset({"event_id", "value"})


class RewardFastPath(ClientFastPath):
    """ASGI layer that answers plain ``POST /v1/rewards`` requests (see the module docstring)
    and hands every other request to ``app`` untouched."""

    method = "POST"
    path = PATH

    async def answer(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal
    ) -> None:
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        body, messages = await _read_body(receive)
        services: Services = state.services
        request = None if body is None else _plain_reward(body, services)
        if request is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        scope.setdefault("state", {}).update(route=PATH, principal=principal)
        limiter: RateLimiter = state.rate_limiter
        try:
            limiter.take(principal.key_id, SCOPE)
            outcome = await _record(services, *request, reward_speaker(principal))
        except ArtworkError as exc:
            response: Response = artwork_error_response("POST", PATH, exc)
        except SQLAlchemyError as exc:
            response = database_error_response("POST", PATH, exc)
        else:
            metrics.record_reward(
                "recorded" if outcome.recorded else "duplicate", outcome.join_lag_s
            )
            await _send_json(
                send,
                {
                    "event_id": outcome.event_id,
                    "value": float(outcome.value),
                    "recorded": outcome.recorded,
                    "model_version": outcome.model_version,
                },
            )
            return
        await response(scope, receive, send)


async def _send_json(send: Send, content: dict[str, Any]) -> None:
    """A 200 with ``content`` as JSONResponse would send it (same bytes, same headers)."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    await send_json(send, body.encode("utf-8"))


async def _record(
    services: Services, event_id: str, value: float, speaker: str | None
) -> RewardOutcome:
    """What the route does for a value: in memory and awaited on the event loop where it can,
    in a worker thread where the answer needs the database."""
    bandit = services.bandit
    answered = await bandit.reward_async(event_id, value, principal=speaker)
    if answered is not None:
        return answered
    return await run_in_threadpool(partial(bandit.reward, event_id, value, principal=speaker))


def _is_json(scope: Scope) -> bool:
    content_type = request_header(scope, b"content-type")
    if content_type is None:
        return False
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    charset = parameters.strip().lower()
    return charset in ("", "charset=utf-8")


def _plain_reward(body: bytes, services: Services) -> tuple[str, float] | None:
    """``(event_id, value)`` when ``body`` is exactly a valid value reward, else None."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.keys() != _FIELDS:
        return None
    event_id, value = data["event_id"], data["value"]
    # bool is an int to Python, not a number to the schema: the route decides about it.
    if type(event_id) is not str or type(value) not in (int, float):
        return None
    if not 1 <= len(event_id) <= MAX_EVENT_ID_CHARS:
        return None
    number = float(value)
    settings = services.settings
    if not (
        math.isfinite(number)
        and -REWARD_VALUE_BOUND <= number <= REWARD_VALUE_BOUND
        and settings.reward_min <= number <= settings.reward_max
    ):
        return None
    return event_id, number


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The whole request body and the messages it came in; the body is None when the
    request ended otherwise (a disconnect) or grew past its limit."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        try:
            message = await receive()
        except BodyTooLarge as exc:
            # The route's body parsing meets the same limit and answers it.
            return None, [*messages, {"type": "artwork.body_too_large", "error": exc}]
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that gives back ``messages`` first (re-raising a body limit where it was
    met), then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            message = pending.pop(0)
            if message["type"] == "artwork.body_too_large":
                raise message["error"]
            return message
        return await receive()

    return replayed

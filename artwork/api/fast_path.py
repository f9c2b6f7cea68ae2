"""What the fast paths share: an ASGI layer that takes one method and path from a client whose
bearer key this process verified lately, and hands every other request on untouched.

The fast paths (:mod:`artwork.api.reward_fast_path`, :mod:`artwork.api.homepage_fast_path`)
answer the requests clients make all day with the route's own calls and error responses,
without the framework's per-request work; what they do not answer plainly goes on to the
route, which stays the one definition of those answers.
"""

from __future__ import annotations

from typing import ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send

from artwork.api.auth import Principal
from artwork.api.middleware import request_header
from artwork.catalog.keys import KeyStore

SCOPE = "client"
_JSON = b"application/json"


class ClientFastPath:
    """Answers ``method path`` for a remembered client key through :meth:`answer`; passes
    everything else to ``app``.

    Args:
        app: the rest of the application.
    """

    method: ClassVar[str]
    path: ClassVar[str]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != self.method or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        principal = client_principal(scope, scope["app"].state.keys)
        if principal is None:
            await self.app(scope, receive, send)
            return
        await self.answer(scope, receive, send, principal)

    async def answer(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal
    ) -> None:
        """Answer the request, or hand it to ``self.app`` when it is not plain."""
        raise NotImplementedError


def client_principal(scope: Scope, keys: KeyStore) -> Principal | None:
    """The caller, when a bearer key this process remembers presents it with the client
    scope; None sends the request down the ordinary path."""
    authorization = request_header(scope, b"authorization")
    if authorization is None:
        return None
    scheme, _, raw = authorization.partition(" ")
    if scheme.lower() != "bearer" or not raw:
        return None
    record = keys.remembered(raw)
    if record is None or SCOPE not in record.scopes:
        return None
    return Principal(record.key_id, record.name, record.scopes)


async def send_json(send: Send, body: bytes) -> None:
    """A 200 of JSON ``body`` with the headers ``JSONResponse`` sends."""
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

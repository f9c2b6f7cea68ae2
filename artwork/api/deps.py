"""Request dependencies as ``Annotated`` aliases; tests swap ``get_services`` for their own.

``ClientKey``, ``EditorKey`` and ``AdminKey`` authenticate the caller (bearer token or the
``artwork_key`` cookie) and require that scope; see :mod:`artwork.api.auth`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from artwork.api.auth import Principal, get_key_store, require_scopes
from artwork.catalog.keys import KeyStore
from artwork.wiring import Services


async def get_services(request: Request) -> Services:
    """The app's services (``async``: an attribute read needs no worker thread)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
KeyStoreDep = Annotated[KeyStore, Depends(get_key_store)]
ClientKey = Annotated[Principal, Depends(require_scopes("client"))]
EditorKey = Annotated[Principal, Depends(require_scopes("editor"))]
AdminKey = Annotated[Principal, Depends(require_scopes("admin"))]

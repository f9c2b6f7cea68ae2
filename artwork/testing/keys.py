"""API keys for tests: make one with the scopes a test needs, send it as a bearer header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from artwork.catalog.keys import KeyStore

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from artwork.wiring import Services

ALL_SCOPES = ("client", "editor", "admin")


def make_key(engine: Engine, *scopes: str, name: str = "test") -> str:
    """A new key holding ``scopes`` (default: every scope) in the database behind ``engine``."""
    return KeyStore(engine).create(scopes or ALL_SCOPES, name).key


def bearer(key: str) -> dict[str, str]:
    """The request headers that present ``key``."""
    return {"Authorization": f"Bearer {key}"}


def api_client(services: Services, *scopes: str) -> TestClient:
    """A test client of the app serving ``services``, presenting a key with ``scopes``
    (default: every scope). Use it as a context manager, like ``TestClient``."""
    from fastapi.testclient import TestClient

    from artwork.app import create_app

    key = make_key(services.engine, *scopes)
    return TestClient(create_app(services=services), headers=bearer(key))

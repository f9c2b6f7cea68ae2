"""A PostgreSQL database for tests that need one, or a skipped test saying why not.

Tests reach PostgreSQL at ``ARTWORK_TEST_POSTGRES_URL`` (default: the local ``test``
database); where none answers, :func:`postgres_engine` skips the calling test with the reason.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine

from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import metadata
from artwork.errors import StorageError

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """``ARTWORK_TEST_POSTGRES_URL``, or the local ``test`` database."""
    return os.environ.get("ARTWORK_TEST_POSTGRES_URL", DEFAULT_URL)


def postgres_engine(*, fresh_schema: bool = False) -> Engine:
    """An engine on the tests' PostgreSQL database; skips the calling test when none answers.

    Args:
        fresh_schema: drop every artwork table and create them again first.
    """
    try:
        engine = create_database_engine(postgres_url())
    except StorageError as exc:
        pytest.skip(f"PostgreSQL not reachable at ARTWORK_TEST_POSTGRES_URL: {exc}")
    if fresh_schema:
        metadata.drop_all(engine)
        metadata.create_all(engine)
    return engine

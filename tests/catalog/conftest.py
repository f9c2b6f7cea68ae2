"""Fixtures shared by the catalogue tests: one engine per supported database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import metadata
from artwork.errors import StorageError

POSTGRES_URL = os.environ.get(
    "ARTWORK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        built = create_database_engine(f"sqlite:///{tmp_path / 'a.db'}")
    else:
        try:
            built = create_database_engine(POSTGRES_URL)
        except StorageError as exc:
            pytest.skip(f"PostgreSQL not reachable at ARTWORK_TEST_POSTGRES_URL: {exc}")
        metadata.drop_all(built)
        metadata.create_all(built)
    yield built
    if request.param == "postgres":
        metadata.drop_all(built)
    built.dispose()

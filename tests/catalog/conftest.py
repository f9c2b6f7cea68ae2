"""Fixtures shared by the catalogue tests: one engine per supported database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import metadata
from artwork.testing.postgres import postgres_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        built = create_database_engine(f"sqlite:///{tmp_path / 'a.db'}")
    else:
        built = postgres_engine(fresh_schema=True)
    yield built
    if request.param == "postgres":
        metadata.drop_all(built)
    built.dispose()

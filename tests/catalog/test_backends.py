"""The catalogue contract on every supported database: SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.database import create_database_engine
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.catalog.schema import metadata
from artwork.domain import Interaction
from artwork.errors import StorageError, TitleExistsError
from artwork.testing.catalog import seed_title

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


def test_catalogue_contract(engine: Engine, tmp_path: Path) -> None:
    catalog, media = Catalog(engine), MediaStore(tmp_path / "media")
    stored = seed_title(catalog, media, "t1", genres=("drama",), variants=3)
    assert [v.variant_id for v in catalog.variants("t1")] == [v.variant_id for v in stored]
    with pytest.raises(TitleExistsError):
        seed_title(catalog, media, "t1")
    when = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    catalog.add_interactions([Interaction("u", "t1", when, 10.0, 60.0)])
    assert catalog.interactions("u")[0].timestamp == when
    assert catalog.count_titles() == 1 and catalog.count_interactions() == 1

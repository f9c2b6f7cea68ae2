"""The catalogue contract on every supported database: SQLite (default) and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.domain import Interaction
from artwork.errors import TitleExistsError
from artwork.testing.catalog import seed_title


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

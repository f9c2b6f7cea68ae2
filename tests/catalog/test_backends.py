"""The catalogue contract on every supported database: SQLite (default) and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.domain import Interaction, RowImpression
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


def test_served_rows_round_trip(engine: Engine) -> None:
    # Written in bulk (JSON serialised by the writer, COPY on PostgreSQL): read back whole.
    catalog = Catalog(engine)
    at = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    rows = [
        RowImpression(
            impression_id="page-1",
            created_at=at,
            user_id="mémber \t1",
            selector="row_ranking",
            model_version="artifact:3",
            position=position,
            row_id=f"genre:sci-fi/{position}",
            source="genre",
            score=0.1 + position,
            title_ids=("t1", 'title "é"', "t\\3"),
            features={"position": 1.0 / (position + 1), "novelty": 0.0},
        )
        for position in range(3)
    ]
    assert catalog.log_impressions(rows) == 3
    assert catalog.log_impressions([]) == 0
    stored = catalog.impressions()
    assert stored == rows
    assert all(r.created_at == at for r in stored)
    assert catalog.impressions(since=at + timedelta(microseconds=1)) == []

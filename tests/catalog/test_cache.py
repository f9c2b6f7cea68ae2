"""The catalogue cache: hot data read once, dropped when any process changes the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.cache import CatalogCache
from artwork.catalog.database import create_database_engine
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.domain import Interaction, VariantStatus
from artwork.testing.catalog import seed_title


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second = create_database_engine(url), create_database_engine(url)
    yield first, second
    first.dispose()
    second.dispose()


def test_reads_once_until_the_catalogue_changes(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, server = Catalog(engines[0]), Catalog(engines[1])
    media = MediaStore(tmp_path / "media")
    seeded = seed_title(editor, media, "t1", variants=3, status=VariantStatus.PROPOSED)
    cache = CatalogCache(server, poll_s=3600)
    assert cache.approved(["t1"]) == {}
    reads = []
    original = server.variants_for
    monkeypatch.setattr(server, "variants_for", lambda *a: reads.append(a) or original(*a))
    assert cache.approved(["t1"]) == {}
    assert reads == []  # cached, even "no approved artwork"

    editor.set_variant_status(seeded[1].variant_id, VariantStatus.APPROVED)  # another process
    assert cache.approved(["t1"]) == {}  # not polled yet
    cache.check(force=True)
    approved = cache.approved(["t1"])["t1"]
    assert [v.variant_id for v in approved] == [seeded[1].variant_id]
    assert approved[0].crops == seeded[1].crops


def test_plays_are_dropped_when_plays_are_posted(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    editor, server = Catalog(engines[0]), Catalog(engines[1])
    seed_title(editor, MediaStore(tmp_path / "media"), "t1")
    cache = CatalogCache(server, poll_s=0)
    assert cache.plays("u1") == []
    generation = cache.generation
    editor.add_interactions([Interaction("u1", "t1", datetime.now(UTC), 30.0, 60.0)])
    assert [p.title_id for p in cache.plays("u1")] == ["t1"]
    assert cache.generation > generation


def test_a_new_ingest_shows_at_the_next_poll(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    editor, server = Catalog(engines[0]), Catalog(engines[1])
    cache = CatalogCache(server, poll_s=0)
    assert cache.approved(["new"]) == {}
    seed_title(editor, MediaStore(tmp_path / "media"), "new", variants=2)
    assert len(cache.approved(["new"])["new"]) == 2
    assert cache.title("new").title_id == "new"


def test_poll_s_must_not_be_negative(engines: tuple[Engine, Engine]) -> None:
    with pytest.raises(ValueError, match="poll_s"):
        CatalogCache(Catalog(engines[0]), poll_s=-1)

"""The catalogue cache: hot data read once, dropped when any process changes the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from artwork.catalog.cache import CatalogCache
from artwork.catalog.counters import INTERACTIONS, bump_counter
from artwork.catalog.database import create_database_engine
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.domain import Interaction, Title, VariantStatus
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


def play(user_id: str) -> Interaction:
    return Interaction(user_id, "t1", datetime.now(UTC), 30.0, 60.0)


@pytest.fixture
def shared_catalog(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Catalog, Catalog, list[str]]:
    """An editor's catalogue and a server's on one database (two processes, as it were), one
    title; the members whose plays the server reads from the database are listed."""
    editor, server = Catalog(engines[0]), Catalog(engines[1])
    seed_title(editor, MediaStore(tmp_path / "media"), "t1")
    reads: list[str] = []
    original = server.interactions
    monkeypatch.setattr(
        server, "interactions", lambda user_id=None: reads.append(user_id) or original(user_id)
    )
    return editor, server, reads


def test_plays_posted_for_some_members_drop_only_theirs(
    shared_catalog: tuple[Catalog, Catalog, list[str]],
) -> None:
    editor, server, reads = shared_catalog
    cache = CatalogCache(server, poll_s=3600)
    before = {u: cache.plays(u) for u in ("u1", "u2", "u3")}
    generation, catalog_generation = cache.generation, cache.catalog_generation
    editor.add_interactions([play("u2"), play("u2"), play("u3")])
    cache.check(force=True)
    reads.clear()

    assert cache.plays("u1") is before["u1"]  # kept: not read again
    assert [p.user_id for p in cache.plays("u2")] == ["u2", "u2"]
    assert len(cache.plays("u3")) == 1
    assert reads == ["u2", "u3"]
    assert cache.generation > generation  # any change of plays moves it
    assert cache.catalog_generation == catalog_generation  # the catalogue did not change


@pytest.mark.parametrize("how", ["a change that is not a play added", "too many at once"])
def test_plays_that_cannot_be_told_member_by_member_drop_everyones(
    shared_catalog: tuple[Catalog, Catalog, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    editor, server, reads = shared_catalog
    cache = CatalogCache(server, poll_s=3600)
    for user_id in ("u1", "u2"):
        cache.plays(user_id)
    if how == "too many at once":
        monkeypatch.setattr("artwork.catalog.cache.MEMBERS_DROPPED_ONE_BY_ONE", 1)
        editor.add_interactions([play("u2"), play("u3")])
    else:  # as a deletion, or a play committed after a later-numbered one, reads
        with editor.engine.begin() as conn:
            bump_counter(conn, INTERACTIONS)
    cache.check(force=True)
    reads.clear()

    cache.plays("u1")
    cache.plays("u2")
    assert reads == ["u1", "u2"]


def test_plays_read_while_plays_were_dropped_are_not_kept(
    shared_catalog: tuple[Catalog, Catalog, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, server, _ = shared_catalog
    cache = CatalogCache(server, poll_s=3600)
    cache.plays("u0")
    original = server.interactions

    def read_then_a_play_lands(user_id: str | None = None) -> list[Interaction]:
        found = original(user_id)  # the plays before the new one
        editor.add_interactions([play("u1")])
        cache.check(force=True)
        return found

    monkeypatch.setattr(server, "interactions", read_then_a_play_lands)
    assert cache.plays("u1") == []  # what was read, answered once
    monkeypatch.setattr(server, "interactions", original)
    assert len(cache.plays("u1")) == 1  # not kept: read again


def test_where_the_plays_stand_is_read_in_one_go(any_engine: Engine) -> None:
    catalog = Catalog(any_engine)
    assert catalog.plays_since(0, 10) == (0, 0, [])
    catalog.add_title(Title("t1", "One"), [])
    catalog.add_interactions([play("u1"), play("u2"), play("u1")])
    counter, newest, members = catalog.plays_since(0, 10)
    assert (counter, members) == (3, ["u1", "u2", "u1"])
    assert catalog.plays_since(newest - 2, 1) == (3, newest, ["u2"])
    assert catalog.plays_since(newest, 10) == (3, newest, [])
    assert catalog.plays_since(0, 0) == (3, newest, [])

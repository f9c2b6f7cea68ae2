"""API keys, upload jobs and title metadata on every supported database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from artwork.catalog.database import create_database_engine
from artwork.catalog.jobs import JobStore
from artwork.catalog.keys import KeyStore
from artwork.catalog.repository import Catalog
from artwork.catalog.schema import jobs, metadata
from artwork.catalog.titles_import import TitleRecord, delete_metadata, import_titles
from artwork.errors import AuthenticationError, JobNotFoundError, KeyNotFoundError, StorageError

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


def test_keys_verify_until_revoked(engine: Engine) -> None:
    store = KeyStore(engine)
    created = store.create(["client", "editor"], "tv app")
    assert store.verify(created.key).scopes == frozenset({"client", "editor"})
    assert [k.key_id for k in store.list()] == [created.record.key_id]
    wrong = created.key[:-1] + ("A" if created.key[-1] != "A" else "B")
    with pytest.raises(AuthenticationError):
        store.verify(wrong)
    revoked = store.revoke(created.record.key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError):
        store.verify(created.key)
    assert store.revoke(created.record.key_id).revoked_at == revoked.revoked_at
    with pytest.raises(KeyNotFoundError):
        store.revoke("000000000000")


def test_jobs_move_through_their_states(engine: Engine) -> None:
    store = JobStore(engine)
    job = store.create("upload", "t1", "k1")
    store.update(job.job_id, state="running", progress=0.5)
    assert (store.get(job.job_id).state, store.get(job.job_id).progress) == ("running", 0.5)
    other = store.create("upload", "t2", "k1")
    # jobs of this process (a restart with the same pid) are abandoned; a live one's are not
    assert store.fail_abandoned() == 2
    assert store.get(other.job_id).state == "failed"
    with engine.begin() as conn:
        live = store.create("upload", "t3", "k1")
        conn.execute(update(jobs).where(jobs.c.job_id == live.job_id).values(owner="elsewhere:1"))
    assert store.fail_abandoned() == 0 and store.get(live.job_id).state == "queued"
    with pytest.raises(JobNotFoundError):
        store.get("0" * 16)


def test_titles_import_with_metadata(engine: Engine) -> None:
    catalog = Catalog(engine)
    report = import_titles(
        catalog, [TitleRecord("a", "Alpha", ("Drama",), 1999, "First"), TitleRecord("a", "A")]
    )
    assert report.imported == ["a"] and len(report.problems) == 1
    delete_metadata(catalog, "a")
    catalog.delete_title("a")
    assert not catalog.has_title("a")

"""API keys, upload jobs and title metadata on every supported database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from artwork.catalog.jobs import JobStore
from artwork.catalog.keys import KeyStore
from artwork.catalog.repository import Catalog
from artwork.catalog.schema import jobs
from artwork.catalog.titles_import import TitleRecord, delete_metadata, import_titles
from artwork.errors import AuthenticationError, JobNotFoundError, KeyNotFoundError


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

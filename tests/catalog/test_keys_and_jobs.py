"""API keys, upload jobs and title metadata on every supported database."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, event, update

from artwork.catalog.jobs import JobStore
from artwork.catalog.keys import KeyStore
from artwork.catalog.repository import Catalog
from artwork.catalog.schema import jobs
from artwork.catalog.titles_import import TitleRecord, delete_metadata, import_titles
from artwork.errors import AuthenticationError, JobNotFoundError, KeyNotFoundError, StorageError


@pytest.mark.parametrize("poll_s", [0.0, 60.0])
def test_keys_verify_until_revoked(engine: Engine, poll_s: float) -> None:
    store = KeyStore(engine, poll_s=poll_s)
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


def _key_reads(engine: Engine) -> list[str]:
    reads: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM api_keys" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return reads


def test_concurrent_requests_share_one_look_at_the_keys_counter(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KeyStore(engine, poll_s=60.0)
    created = store.create(["client"], "app")
    store.verify(created.key)
    looks: list[float] = []
    looking = threading.Event()
    from artwork.catalog import keys as module

    real = module.read_counters

    def slow_read(engine: Engine) -> dict[str, int]:
        looks.append(time.monotonic())
        looking.set()
        time.sleep(0.3)  # a slow database: other requests arrive meanwhile
        return real(engine)

    monkeypatch.setattr(module, "read_counters", slow_read)
    store._checked_at = -float("inf")  # a look is due
    threads = [threading.Thread(target=store.verify, args=(created.key,)) for _ in range(8)]
    threads[0].start()
    assert looking.wait(5)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(looks) == 1

    # A look that fails is refused, and the next request looks again.
    def broken(engine: Engine) -> dict[str, int]:
        looks.append(time.monotonic())
        raise StorageError("database down")

    monkeypatch.setattr(module, "read_counters", broken)
    store._checked_at = -float("inf")
    for _ in range(2):
        with pytest.raises(StorageError):
            store.verify(created.key)
    assert len(looks) == 3


def test_verified_keys_are_remembered_until_any_key_changes(engine: Engine) -> None:
    store = KeyStore(engine, poll_s=0.2)
    elsewhere = KeyStore(engine)  # another process on the same database
    first = store.create(["client"], "app")
    second = elsewhere.create(["client"], "tv")
    reads = _key_reads(engine)
    for _ in range(5):
        store.verify(first.key)
    assert len(reads) == 1  # read once, then remembered
    # Answered from memory alone (what the request path uses before going to a thread).
    remembered = store.remembered(first.key)
    assert remembered is not None and remembered.key_id == first.record.key_id
    assert store.remembered(second.key) is None  # not verified here yet
    assert store.remembered("not a key") is None
    assert KeyStore(engine).remembered(first.key) is None  # a store that never remembers
    wrong = first.key[:-1] + ("A" if first.key[-1] != "A" else "B")
    with pytest.raises(AuthenticationError):
        store.verify(wrong)  # a wrong secret is never taken for the remembered key
    store.verify(second.key)
    # Revoked elsewhere: refused once this store has looked at the counter again.
    elsewhere.revoke(second.record.key_id)
    deadline = time.monotonic() + 5.0
    while True:
        try:
            store.verify(second.key)
        except AuthenticationError:
            break
        assert time.monotonic() < deadline, "a key revoked elsewhere kept verifying"
        time.sleep(0.05)
    # Revoked through this store: refused at once.
    store.verify(first.key)
    store.revoke(first.record.key_id)
    assert store.remembered(first.key) is None
    with pytest.raises(AuthenticationError):
        store.verify(first.key)
    with pytest.raises(ValueError, match="poll_s must be >= 0"):
        KeyStore(engine, poll_s=-1.0)


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

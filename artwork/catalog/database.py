"""Engine creation for the configured database URL, schema creation, and the one place a
database failure becomes a :class:`~artwork.errors.StorageError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from artwork.catalog.schema import metadata
from artwork.errors import StorageError

#: Longest wait for a lock held by another connection: a stuck writer makes requests fail
#: fast (503) instead of piling up until every worker thread waits.
BUSY_TIMEOUT_S = 5.0


def create_database_engine(url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """Open (and if new, create) the database at ``url`` with the artwork schema.

    SQLite gets WAL journalling and enforced foreign keys, so the API and a CLI can use one
    file at the same time. The schema is created if missing. A statement waits at most
    ``busy_timeout_s`` for a lock (SQLite's busy timeout, PostgreSQL's ``lock_timeout``).

    Raises:
        StorageError: the database cannot be opened or the schema cannot be created.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_s}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql":
            lock_ms = int(busy_timeout_s * 1000)
            kwargs["connect_args"] = {"options": f"-c lock_timeout={lock_ms}"}
    try:
        engine = create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        metadata.create_all(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(
            f"cannot open database {parsed.render_as_string(hide_password=True)}: {exc}; "
            "check ARTWORK_DATABASE_URL and that the server or folder is reachable"
        ) from exc
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Turn a database failure inside the block into ``StorageError("cannot <doing>: ...")``.

    Errors of artwork's own (not found, conflicts) pass through unchanged.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot {doing}: {exc}") from exc

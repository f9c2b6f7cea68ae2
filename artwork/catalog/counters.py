"""Change counters: one row per kind of data, bumped in the transaction of every write of it.

Serving processes poll them (one tiny query) to learn that another process changed the
catalogue, the plays or the API keys, and drop what they cached of it
(:class:`~artwork.catalog.cache.CatalogCache`, :class:`~artwork.catalog.keys.KeyStore`).
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from artwork.catalog.schema import change_counters
from artwork.errors import StorageError

CATALOG = "catalog"
"""Titles, variants and their editorial state."""
INTERACTIONS = "interactions"
"""Members' plays: one per play added, and one per other change."""
KEYS = "keys"
"""API keys created or revoked."""


def bump_counter(conn: Connection, name: str, by: int = 1) -> None:
    """Add ``by`` to a change counter in the caller's transaction (creating it at ``by``).

    Plays are counted one per row added, so a reader that finds as many new rows as the
    counter moved knows it has seen every change (:class:`~artwork.catalog.cache.CatalogCache`).
    """
    dialect = conn.dialect.name
    table = change_counters
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(name=name, value=by)
        conn.execute(
            pg.on_conflict_do_update(
                index_elements=[table.c.name], set_={"value": table.c.value + by}
            )
        )
    else:
        lite = sqlite.insert(table).values(name=name, value=by)
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=[table.c.name], set_={"value": table.c.value + by}
            )
        )


def read_counters(engine: Engine) -> dict[str, int]:
    """Every change counter's value (a counter never bumped is absent): a cheap query to poll.

    Raises:
        StorageError: The database failed.
    """
    try:
        with engine.connect() as conn:
            return {str(n): int(v) for n, v in conn.execute(select(change_counters))}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the change counters: {exc}") from exc

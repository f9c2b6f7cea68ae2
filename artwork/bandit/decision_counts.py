"""How often each variant of each title was chosen, counted as decisions are logged.

Cold start needs a title's impressions so far, and the editor's page each variant's. An index
on ``decisions.title_id`` answered both, at a price on every page: a page's ~150 decisions
name ~150 titles, each a random place in that index, which was most of the cost of inserting
a page's rows (SQLite: ~2 ms of ~2.7 per page). ``decision_counts`` holds one row per (title,
variant) instead, incremented in the transaction that logs the decisions, with a batch's
increments summed first (:meth:`DecisionCounts.add`, called by
:meth:`artwork.bandit.log.DecisionLog.write`). Decisions are append-only and each is written
once, so the counts are exact; an operator deleting decision rows leaves them as they were
(they count what was shown).

Increments are applied in (title, variant) order, so two replicas' writers updating the same
rows wait for each other rather than deadlock (PostgreSQL).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from artwork.catalog.database import storage_errors
from artwork.catalog.schema import decision_counts

_ROWS_PER_UPSERT = 500
"""(title, variant) increments per SQLite statement (three bound values each)."""
_IDS_PER_QUERY = 500
"""Title ids per ``IN`` list when reading counts."""

_UPDATE = "ON CONFLICT (title_id, variant_id) DO UPDATE SET shown = {table}.shown + excluded.shown"


class DecisionCounts:
    """Reads and increments ``decision_counts``; safe to share between threads.

    Args:
        engine: The decision log's engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._upserts: dict[int, str] = {}  # SQLite's statement by rows per statement

    def add(self, conn: Connection, chosen: Iterable[tuple[str, str]]) -> None:
        """Count decisions ``(title_id, chosen variant id)`` in the caller's transaction (the
        one inserting them).

        Raises:
            SQLAlchemyError: The database failed (the caller's transaction rolls back).
        """
        totals = sorted(Counter(chosen).items())
        if not totals:
            return
        table = conn.dialect.identifier_preparer.format_table(decision_counts)
        if conn.dialect.name == "postgresql":
            # One statement of three arrays: its text never changes, so psycopg prepares it.
            conn.exec_driver_sql(
                f"INSERT INTO {table} (title_id, variant_id, shown) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
                + _UPDATE.format(table=table),
                (
                    [title for (title, _), _ in totals],
                    [variant for (_, variant), _ in totals],
                    [count for _, count in totals],
                ),
            )
            return
        # Multi-row statements, one text per row count: sqlite3's executemany hands the
        # interpreter lock over for every row, which request threads of the process wait on.
        for start in range(0, len(totals), _ROWS_PER_UPSERT):
            part = totals[start : start + _ROWS_PER_UPSERT]
            text = self._upserts.get(len(part))
            if text is None:
                text = (
                    f"INSERT INTO {table} (title_id, variant_id, shown) VALUES "
                    f"{','.join(['(?, ?, ?)'] * len(part))} " + _UPDATE.format(table=table)
                )
                self._upserts[len(part)] = text
            params: list[Any] = []
            for (title, variant), count in part:
                params += (title, variant, count)
            conn.exec_driver_sql(text, tuple(params))

    def impressions(self, title_ids: Iterable[str]) -> dict[str, int]:
        """How many decisions were logged for each title (0 for titles never shown).

        Raises:
            StorageError: The database failed.
        """
        ids = list(dict.fromkeys(title_ids))
        counts = dict.fromkeys(ids, 0)
        if not ids:
            return counts
        with storage_errors("count decisions"), self.engine.connect() as conn:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                query = (
                    select(decision_counts.c.title_id, func.sum(decision_counts.c.shown))
                    .where(decision_counts.c.title_id.in_(ids[start : start + _IDS_PER_QUERY]))
                    .group_by(decision_counts.c.title_id)
                )
                for title_id, count in conn.execute(query):
                    counts[str(title_id)] = int(count)
        return counts

    def shown(self, title_id: str) -> dict[str, int]:
        """How often each of the title's variants was chosen (those never chosen left out).

        Raises:
            StorageError: The database failed.
        """
        query = select(decision_counts.c.variant_id, decision_counts.c.shown).where(
            decision_counts.c.title_id == title_id
        )
        with storage_errors(f"count the decisions of {title_id!r}"), self.engine.connect() as conn:
            return {str(variant): int(count) for variant, count in conn.execute(query) if count}

    def fill(self, conn: Connection, totals: Sequence[tuple[str, str, int]]) -> None:
        """Insert counts ``(title_id, variant_id, shown)`` into the empty table (counting a log
        written before the table existed) in the caller's transaction."""
        for start in range(0, len(totals), 5000):
            conn.execute(
                decision_counts.insert(),
                [
                    {"title_id": title, "variant_id": variant, "shown": count}
                    for title, variant, count in totals[start : start + 5000]
                ],
            )

"""Writing many rows at once: a table's INSERT compiled once per dialect, and many rows per
SQLite ``INSERT ... VALUES (...), (...)`` statement.

The group-commit writer inserts a page's ~150 decisions and ~10 homepage rows with their JSON
written already: SQLAlchemy's per-row parameter processing (a ``json.dumps`` per JSON column)
cost more than the insert itself. And Python's sqlite3 releases the interpreter lock around
every row ``executemany`` steps through and takes it back afterwards; while request threads
of the same process build pages, each of those hand-overs waits for a thread switch, so a
page's 150 decision rows cost ~150 us each instead of ~13. One statement per chunk of rows
steps once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Dialect


class InsertPlan(NamedTuple):
    """A table's INSERT of some columns, compiled for one dialect."""

    statement: str
    #: Each parameter's column, as a position in the columns given; None: named parameters.
    order: tuple[int, ...] | None
    #: The time column's bind processor (None: the driver takes datetimes as they are).
    stamp: Callable[[Any], Any] | None


def compile_insert(
    table: Table, columns: Sequence[str], dialect: Dialect, time_column: str
) -> InsertPlan:
    """``INSERT INTO table (columns...)`` for ``dialect``, with the processor of
    ``time_column`` (applied once per distinct time by the caller)."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    order = (
        tuple(columns.index(name) for name in compiled.positiontup or ())
        if compiled.positional
        else None
    )
    stamp = table.c[time_column].type.dialect_impl(dialect).bind_processor(dialect)
    return InsertPlan(str(compiled), order, stamp)


def max_variables() -> int:
    """Bound parameters one SQLite statement may hold (32766 since SQLite 3.32, 999 before)."""
    return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


class MultiRowInsert:
    """Inserts rows with one statement per chunk, for one single-row ``INSERT`` text.

    Args:
        statement: ``INSERT INTO t (a, b) VALUES (?, ?)`` as compiled for SQLite.
        width: Values per row.
        rows_per_statement: The most rows one statement carries.
    """

    def __init__(self, statement: str, width: int, rows_per_statement: int = 200) -> None:
        self._head, _, self._group = statement.partition(" VALUES ")
        self._chunk = max(1, min(rows_per_statement, max_variables() // width))
        self._texts: dict[int, str] = {}  # by rows per statement: at most one per chunk length
        self._lock = threading.Lock()

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (each in the statement's parameter order) in ``conn``'s transaction."""
        for start in range(0, len(rows), self._chunk):
            part = rows[start : start + self._chunk]
            text = self._texts.get(len(part))
            if text is None:
                text = f"{self._head} VALUES {','.join([self._group] * len(part))}"
                with self._lock:
                    self._texts[len(part)] = text
            conn.exec_driver_sql(text, tuple(chain.from_iterable(part)))

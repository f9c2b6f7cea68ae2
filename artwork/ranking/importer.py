"""Bulk import of plays from CSV (``artwork interactions import FILE.csv``).

The file has a header naming at least ``user_id,title_id,timestamp,seconds`` and optionally
``duration`` (other columns are ignored). ``timestamp`` is ISO 8601 (a time without a zone is
UTC) or Unix seconds; ``seconds`` is the time watched and ``duration`` the title's runtime.
Rows naming an unknown title or holding impossible values (negative or non-numeric seconds,
more seconds than the runtime, a runtime <= 0, a time in the future) are rejected with their
line number and the rest is imported; a file that cannot be read as such a CSV at all raises
``ImportFormatError`` and imports nothing.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from artwork.catalog.repository import Catalog
from artwork.domain import Interaction, Title
from artwork.errors import ImportFormatError

REQUIRED_COLUMNS = ("user_id", "title_id", "timestamp", "seconds")
OPTIONAL_COLUMNS = ("duration",)
MAX_ID_LENGTH = 128
#: A timestamp this far ahead of now is clock skew, further is impossible.
FUTURE_TOLERANCE_S = 300.0
#: Seconds watched may exceed the runtime by this factor plus a second (rounding) at most.
OVERRUN_FACTOR = 1.01


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row left out of an import: its line in the file (the header is line 1) and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ParsedInteractions:
    """A CSV file read: the plays it holds and the rows rejected."""

    path: Path
    interactions: list[Interaction]
    rejected: list[RejectedRow]

    @property
    def rows(self) -> int:
        """Data rows in the file (blank lines aside)."""
        return len(self.interactions) + len(self.rejected)


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    path: Path
    rows: int
    imported: int
    rejected: list[RejectedRow]


def parse_timestamp(text: str) -> datetime:
    """A timezone-aware datetime from ISO 8601 (naive means UTC) or Unix seconds.

    Raises:
        ValueError: neither.
    """
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite number")
    return datetime.fromtimestamp(seconds, tz=UTC)


def read_interactions_csv(
    path: Path, titles: Mapping[str, Title] | None = None, now: datetime | None = None
) -> ParsedInteractions:
    """Read and check every row of an interactions CSV.

    Args:
        path: the file.
        titles: the catalogue; rows naming other titles are rejected (None: no check).
        now: the present; later timestamps are rejected (default: now).

    Raises:
        ImportFormatError: the file is missing, unreadable, not UTF-8 text, empty, or its
            header lacks a required column.
    """
    limit = (now or datetime.now(UTC)).timestamp() + FUTURE_TOLERANCE_S
    interactions: list[Interaction] = []
    rejected: list[RejectedRow] = []
    expected = ",".join(REQUIRED_COLUMNS) + "[,duration]"
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except StopIteration:
                raise ImportFormatError(
                    f"{path} is empty; expected a header line {expected}"
                ) from None
            columns = [c.strip().lower() for c in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ImportFormatError(
                    f"{path} has no column {', '.join(missing)} in its header "
                    f"({','.join(columns)[:80]}); expected {expected}"
                )
            if len(set(columns)) != len(columns):
                raise ImportFormatError(f"{path} names a column twice in its header")
            at = {
                c: columns.index(c) for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in columns
            }
            last_line = reader.line_num
            for fields in reader:
                line, last_line = last_line + 1, reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                try:
                    interactions.append(_row(fields, at, len(columns), titles, limit))
                except ValueError as exc:
                    rejected.append(RejectedRow(line, str(exc)))
    except ImportFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{path} is not UTF-8 text: {exc.reason}") from exc
    except csv.Error as exc:
        raise ImportFormatError(f"{path} is not a readable CSV file: {exc}") from exc
    except OSError as exc:
        raise ImportFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return ParsedInteractions(path, interactions, rejected)


def _row(
    fields: list[str],
    at: Mapping[str, int],
    width: int,
    titles: Mapping[str, Title] | None,
    latest: float,
) -> Interaction:
    """One checked play; ValueError says what is wrong with the row."""
    if len(fields) < width:
        raise ValueError(f"expected {width} fields, got {len(fields)}")
    user_id, title_id = fields[at["user_id"]].strip(), fields[at["title_id"]].strip()
    if not user_id:
        raise ValueError("user_id is empty")
    if len(user_id) > MAX_ID_LENGTH:
        raise ValueError(f"user_id is longer than {MAX_ID_LENGTH} characters")
    if not title_id:
        raise ValueError("title_id is empty")
    title = None
    if titles is not None:
        title = titles.get(title_id)
        if title is None:
            raise ValueError(f"unknown title {title_id!r}")
    raw_time = fields[at["timestamp"]]
    try:
        when = parse_timestamp(raw_time)
    except (ValueError, OverflowError, OSError):
        raise ValueError(
            f"timestamp {raw_time.strip()!r} is not ISO 8601 or Unix seconds"
        ) from None
    if when.timestamp() > latest:
        raise ValueError(f"timestamp {raw_time.strip()!r} is in the future")
    seconds = _number(fields[at["seconds"]], "seconds")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds:g}")
    duration = None
    if "duration" in at and fields[at["duration"]].strip():
        duration = _number(fields[at["duration"]], "duration")
        if duration <= 0:
            raise ValueError(f"duration must be > 0, got {duration:g}")
    runtime = duration if duration is not None else (title.duration_s if title else None)
    if runtime and seconds > runtime * OVERRUN_FACTOR + 1.0:
        raise ValueError(f"seconds {seconds:g} exceed the runtime {runtime:g}")
    return Interaction(user_id, title_id, when, seconds, duration)


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {text.strip()!r}")
    return value


def import_interactions(
    catalog: Catalog, path: Path, *, now: datetime | None = None, strict: bool = False
) -> ImportReport:
    """Import the valid rows of an interactions CSV into the catalogue, in one transaction.

    Args:
        catalog: where the plays go.
        path: the CSV file.
        now: the present, for rejecting future timestamps.
        strict: import nothing if any row is rejected.

    Raises:
        ImportFormatError: the file cannot be read as an interactions CSV.
    """
    titles = {t.title_id: t for t in catalog.list_titles()}
    parsed = read_interactions_csv(path, titles, now)
    imported = 0
    if parsed.interactions and not (strict and parsed.rejected):
        imported = catalog.add_interactions(parsed.interactions)
    return ImportReport(path, parsed.rows, imported, parsed.rejected)

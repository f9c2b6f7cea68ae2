"""Catalogue metadata without video: titles (id, name, genres, year, description) imported
from a CSV or the API, so a catalogue and its play history can be loaded before any footage.

CSV header: ``title_id,name,genres,year`` with optional ``description`` and ``video``;
genres separated by ``|``. Such titles are ranked like any other but shown only once they
have approved artwork (an upload or ``artwork ingest`` with ``--replace`` adds it).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select

from artwork.catalog.repository import Catalog
from artwork.catalog.schema import title_metadata
from artwork.domain import Title
from artwork.errors import ImportFormatError, InvalidInputError, TitleExistsError

TITLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
REQUIRED = ("title_id", "name", "genres", "year")
MAX_DESCRIPTION = 4000


@dataclass(frozen=True, slots=True)
class TitleRecord:
    """One title's metadata (and, from a CSV, an optional video to extract)."""

    title_id: str
    name: str
    genres: tuple[str, ...] = ()
    year: int | None = None
    description: str = ""
    video: Path | None = None


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_record(record: TitleRecord) -> TitleRecord:
    """The record with clean genres, or InvalidInputError naming the bad field."""
    if not TITLE_ID.match(record.title_id):
        raise InvalidInputError(f"title_id {record.title_id!r} is not allowed")
    name = record.name.strip()
    if not name or len(name) > 512 or any(ord(c) < 32 for c in name):
        raise InvalidInputError("name must be 1-512 printable characters")
    if record.year is not None and not 1850 <= record.year <= 2200:
        raise InvalidInputError(f"year must be 1850-2200, got {record.year}")
    if len(record.description) > MAX_DESCRIPTION:
        raise InvalidInputError(f"description must be <= {MAX_DESCRIPTION} characters")
    genres = tuple(dict.fromkeys(g.strip().lower() for g in record.genres if g.strip()))
    return TitleRecord(record.title_id, name, genres, record.year, record.description, record.video)


def read_titles_csv(path: Path) -> tuple[list[TitleRecord], list[str]]:
    """Rows of a titles CSV, and ``FILE:LINE: reason`` for those that cannot be used.

    Raises:
        ImportFormatError: the file cannot be read or lacks a required column.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ImportFormatError(
                    f"{path}: missing column(s) {', '.join(missing)}; the header is "
                    "title_id,name,genres,year[,description,video]"
                )
            rows = list(enumerate(reader, start=2))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFormatError(f"cannot read {path}: {exc}") from exc
    records, problems = [], []
    for line, row in rows:
        try:
            year_text = (row.get("year") or "").strip()
            video_text = (row.get("video") or "").strip()
            record = check_record(
                TitleRecord(
                    title_id=(row.get("title_id") or "").strip(),
                    name=row.get("name") or "",
                    genres=tuple((row.get("genres") or "").split("|")),
                    year=int(year_text) if year_text else None,
                    description=(row.get("description") or "").strip(),
                    video=(path.parent / video_text) if video_text else None,
                )
            )
        except (InvalidInputError, ValueError) as exc:
            problems.append(f"{path}:{line}: {getattr(exc, 'message', exc)}")
            continue
        records.append(record)
    return records, problems


def import_titles(catalog: Catalog, records: Iterable[TitleRecord]) -> ImportReport:
    """Store each title without video (and its year and description); existing ids are
    reported, not changed."""
    report = ImportReport()
    for given in records:
        try:
            record = check_record(given)
            catalog.add_title(Title(record.title_id, record.name, record.genres), [])
        except InvalidInputError as exc:
            report.problems.append(f"{given.title_id}: {exc.message}")
            continue
        except TitleExistsError:
            report.problems.append(f"{record.title_id}: already in the catalogue; skipped")
            continue
        save_metadata(catalog, record)
        report.imported.append(record.title_id)
    return report


def save_metadata(catalog: Catalog, record: TitleRecord) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(delete(title_metadata).where(title_metadata.c.title_id == record.title_id))
        conn.execute(
            insert(title_metadata).values(
                title_id=record.title_id, year=record.year, description=record.description
            )
        )


def load_metadata(catalog: Catalog, title_id: str) -> tuple[int | None, str | None]:
    """A title's ``(year, description)``; ``(None, None)`` when none was imported."""
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(title_metadata.c.year, title_metadata.c.description).where(
                title_metadata.c.title_id == title_id
            )
        ).first()
    return (None, None) if row is None else (row.year, row.description or None)


def delete_metadata(catalog: Catalog, title_id: str) -> None:
    """Remove a title's year and description (before the title itself is deleted)."""
    with catalog.engine.begin() as conn:
        conn.execute(delete(title_metadata).where(title_metadata.c.title_id == title_id))

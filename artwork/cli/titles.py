"""``artwork titles import FILE.csv``: catalogue metadata without (or with) video.

Header ``title_id,name,genres,year`` with optional ``description`` and ``video`` (genres
separated by ``|``, video paths relative to the CSV). Rows naming a video are extracted
like ``artwork ingest``; the rest are stored as titles without artwork, ranked but shown
only once they have approved artwork. Bad rows are listed as ``FILE:LINE: reason`` on stderr
and the rest imported (exit 0); an unreadable file exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings
from artwork.errors import ArtworkError


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("titles", help="catalogue titles")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    bulk = verbs.add_parser("import", help="import titles from a CSV")
    bulk.add_argument("file", type=Path)
    bulk.add_argument("--json", action="store_true", help='print {"imported", "problems"}')
    bulk.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.catalog.titles_import import import_titles, read_titles_csv, save_metadata

    records, problems = read_titles_csv(args.file)
    imported: list[str] = []
    with open_services(settings) as services:
        plain = [r for r in records if r.video is None]
        report = import_titles(services.catalog, plain)
        imported += report.imported
        problems += report.problems
        for record in (r for r in records if r.video is not None):
            assert record.video is not None
            try:
                services.ingestor.ingest(
                    record.video,
                    title_id=record.title_id,
                    name=record.name,
                    genres=record.genres,
                )
            except ArtworkError as exc:
                problems.append(f"{record.title_id}: {exc.message}")
                continue
            save_metadata(services.catalog, record)
            imported.append(record.title_id)
    if args.json:
        print(json.dumps({"imported": imported, "problems": problems}))
    else:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"imported {len(imported)} titles, {len(problems)} problems")
    return EXIT_OK

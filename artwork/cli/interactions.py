"""``artwork interactions import FILE.csv``: bulk-import plays, reporting rejected rows."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from artwork.cli.base import EXIT_ERROR, EXIT_OK, Subcommands, open_services
from artwork.config import Settings

#: Rejected rows listed on stderr before the rest are summarised (--json lists them all).
LISTED_REJECTIONS = 100


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("interactions", help="members' plays")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    bulk = verbs.add_parser(
        "import",
        help="import plays from a CSV file: user_id,title_id,timestamp,seconds[,duration]",
        description="Import plays from CSV. Rows naming unknown titles or holding impossible "
        "values are reported with their line numbers and the rest is imported.",
    )
    bulk.add_argument("file", type=Path, help="CSV file with a header line")
    bulk.add_argument("--strict", action="store_true", help="import nothing if a row is rejected")
    bulk.add_argument("--json", action="store_true", help="print one JSON object")
    bulk.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.ranking.importer import import_interactions

    with open_services(settings) as services:
        report = import_interactions(services.catalog, args.file, strict=args.strict)
    failed = args.strict and bool(report.rejected)
    if args.json:
        print(
            json.dumps(
                {
                    "file": str(report.path),
                    "rows": report.rows,
                    "imported": report.imported,
                    "rejected": [{"line": r.line, "reason": r.reason} for r in report.rejected],
                }
            )
        )
    else:
        for row in report.rejected[:LISTED_REJECTIONS]:
            print(f"{report.path}:{row.line}: {row.reason}", file=sys.stderr)
        hidden = len(report.rejected) - LISTED_REJECTIONS
        if hidden > 0:
            print(
                f"{report.path}: ... and {hidden} more rejected rows (--json lists all)",
                file=sys.stderr,
            )
        print(
            f"imported {report.imported} of {report.rows} rows from {report.path}"
            f" ({len(report.rejected)} rejected)"
        )
    if failed:
        print(
            f"artwork: error: {len(report.rejected)} rows rejected and --strict given; "
            "nothing imported",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK

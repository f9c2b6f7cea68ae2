"""``artwork variants approve|reject ID``: the editorial state of artwork variants."""

from __future__ import annotations

import argparse

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings

#: Each verb and the status it sets (``VariantStatus`` values: the domain module imports numpy,
#: which other commands need not wait for).
_VERBS = {"approve": "approved", "reject": "rejected"}


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("variants", help="editorial state of variants")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, status in _VERBS.items():
        sub = verbs.add_parser(verb, help=f"mark a variant {status}")
        sub.add_argument("variant_id")
        sub.set_defaults(handler=run, status=status)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.domain import VariantStatus

    status = VariantStatus(args.status)
    with open_services(settings) as services:
        services.catalog.set_variant_status(args.variant_id, status)
    print(f"{args.variant_id}: {status.value}")
    return EXIT_OK

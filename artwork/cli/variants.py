"""``artwork variants approve|reject ID``: the editorial state of artwork variants."""

from __future__ import annotations

import argparse

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings
from artwork.domain import VariantStatus

_VERBS = {"approve": VariantStatus.APPROVED, "reject": VariantStatus.REJECTED}


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("variants", help="editorial state of variants")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, status in _VERBS.items():
        sub = verbs.add_parser(verb, help=f"mark a variant {status.value}")
        sub.add_argument("variant_id")
        sub.set_defaults(handler=run, status=status)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with open_services(settings) as services:
        services.catalog.set_variant_status(args.variant_id, args.status)
    print(f"{args.variant_id}: {args.status.value}")
    return EXIT_OK

"""``artwork keys create|list|revoke``: API keys and their scopes (client, editor, admin).

The key is printed once, at creation; the database keeps only a hash of it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from artwork.catalog.scopes import SCOPES
from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings
from artwork.errors import InvalidInputError

if TYPE_CHECKING:  # the key store imports the database layer: not for every command
    from artwork.catalog.keys import ApiKey


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("keys", help="API keys: create, list, revoke")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    create = verbs.add_parser("create", help="make a key; it is printed once")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=SCOPES,
        help="client, editor or admin (repeatable)",
    )
    create.add_argument("--name", default="", help="who or what the key is for")
    create.add_argument("--json", action="store_true", help='print {"key", "id", "scopes"}')
    create.set_defaults(handler=run_create)

    listing = verbs.add_parser("list", help="every key: id, scopes, name, state")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=run_list)

    revoke = verbs.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=run_revoke)


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.catalog.keys import KeyStore

    with open_services(settings) as services:
        try:
            created = KeyStore(services.engine).create(args.scope, args.name)
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from exc
    scopes = sorted(created.record.scopes)
    if args.json:
        print(json.dumps({"key": created.key, "id": created.record.key_id, "scopes": scopes}))
    else:
        print(created.key)
        print(
            f"id {created.record.key_id}, scopes {','.join(scopes)}: keep the key now, it "
            "cannot be shown again",
            file=sys.stderr,
        )
    return EXIT_OK


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.catalog.keys import KeyStore

    with open_services(settings) as services:
        keys = KeyStore(services.engine).list()
    for key in keys:
        if args.json:
            print(json.dumps(_as_json(key)))
        else:
            state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
            print(f"{key.key_id}  {','.join(sorted(key.scopes)):<20} {state:<24} {key.name}")
    return EXIT_OK


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.catalog.keys import KeyStore

    with open_services(settings) as services:
        key = KeyStore(services.engine).revoke(args.key_id)
    print(f"{key.key_id}: revoked")
    return EXIT_OK


def _as_json(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.key_id,
        "name": key.name,
        "scopes": sorted(key.scopes),
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }

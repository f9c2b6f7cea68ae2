"""The ``artwork`` command: one module per command group, each registering its subcommands.

Exit codes: 0 success, 1 an artwork error (the reason on one line of stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from artwork.cli import (
    bandit,
    ingest,
    interactions,
    keys,
    models,
    ranking,
    serve,
    titles,
    upload,
    variants,
)
from artwork.cli.base import EXIT_ERROR
from artwork.config import get_settings
from artwork.errors import ArtworkError

#: Each module has ``register(commands)``, adding subparsers whose ``handler`` default is a
#: ``(args, settings) -> exit code`` function.
COMMAND_MODULES = (
    ingest,
    models,
    serve,
    variants,
    upload,
    interactions,
    ranking,
    bandit,
    keys,
    titles,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artwork",
        description="Personalised artwork: extract variants from video, serve them per member.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args, get_settings())
    except ArtworkError as exc:
        print(f"artwork: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())

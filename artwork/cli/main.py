"""The ``artwork`` command: one module per command group, each registering its subcommands.

Exit codes: 0 success, 1 an artwork error (the reason on one line of stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

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
    """Run one command; its exit code.

    Args:
        argv: the arguments; ``None`` reads the process's own command line, and means this
            call *is* the process (the ``artwork`` executable, ``python -m artwork.cli.main``):
            a command that asks for it (``skip_teardown``: it has closed, flushed and
            committed everything) then ends the process at once instead of returning, which
            saves the interpreter's teardown of every module it loaded (0.1-0.2 s for an
            ingest, which loads FFmpeg, OpenCV, NumPy, ONNX Runtime and SQLAlchemy).
    """
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args, get_settings())
    except ArtworkError as exc:
        print(f"artwork: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    skip_teardown: Callable[[argparse.Namespace], bool] | None = getattr(
        args, "skip_teardown", None
    )
    if argv is None and skip_teardown is not None and skip_teardown(args):
        leave_now(code)
    return code


def leave_now(code: int) -> NoReturn:
    """End the process with ``code`` without tearing the interpreter down: output flushed,
    logging shut down, and nothing else run (no ``atexit`` handler, no finaliser)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())

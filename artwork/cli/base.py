"""What every command module shares: exit codes, the subparsers type, opening services."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeAlias

from artwork.config import Settings

if TYPE_CHECKING:
    from artwork.wiring import Services

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@contextmanager
def open_services(settings: Settings) -> Iterator[Services]:
    """The process's services for one command, closed afterwards."""
    from artwork.wiring import Services  # keeps `artwork --help` fast

    services = Services.from_settings(settings)
    try:
        yield services
    finally:
        services.close()

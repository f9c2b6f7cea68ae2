"""``artwork serve`` and ``artwork demo``: run the API, optionally on the sample catalogue."""

from __future__ import annotations

import argparse
import sys

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings


def register(commands: Subcommands) -> None:
    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    _add_server_options(serve)
    serve.set_defaults(handler=run_serve)

    demo = commands.add_parser(
        "demo", help="build the sample catalogue in ARTWORK_HOME (once) and serve it"
    )
    _add_server_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="build the catalogue and exit")
    demo.set_defaults(handler=run_demo)


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="bind address (default ARTWORK_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (default ARTWORK_PORT)")


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from artwork.api.app import create_app
    from artwork.api.logs import log_config

    host, port = args.host or settings.host, args.port or settings.port
    # Image URLs default to this address: build the app with the address actually served.
    settings = settings.model_copy(update={"host": host, "port": port})
    print(f"artwork: serving http://{host}:{port}/ (API docs at /docs)", file=sys.stderr)
    if not settings.public_base_url and host in ("0.0.0.0", "::"):
        print(
            "artwork: image URLs name 127.0.0.1; set ARTWORK_PUBLIC_BASE_URL to the address "
            "clients reach this server at",
            file=sys.stderr,
        )
    uvicorn.run(create_app(settings), host=host, port=port, log_config=log_config())
    return EXIT_OK


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.catalog.keys import KeyStore
    from artwork.samples import build_sample_catalog

    with open_services(settings) as services:
        build_sample_catalog(services, log=lambda line: print(line, file=sys.stderr))
        store = KeyStore(services.engine)
        client = store.create(["client"], "demo client").key
        editor = store.create(["editor"], "demo editor").key
    # The keys go to stdout (and nowhere else): the demo's user needs them to call the API.
    print(f"client key: {client}")
    print(f"editor key: {editor}")
    print(
        f"try: curl -H 'Authorization: Bearer {client}' "
        f"'http://{args.host or settings.host}:{args.port or settings.port}"
        "/v1/homepage?user_id=member-0000'",
        flush=True,
    )
    if args.no_serve:
        return EXIT_OK
    return run_serve(args, settings)

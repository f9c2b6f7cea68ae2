"""``artwork serve`` and ``artwork demo``: run the API, optionally on the sample catalogue.

uvicorn serves with uvloop and httptools, without a line per request unless asked
(``--access-log`` or ``ARTWORK_ACCESS_LOG``), in ``--workers`` processes (default
``ARTWORK_WORKERS``, else the number of CPU cores). Each worker builds its own services from
the environment; they share the database, the event-id secret and one learner: with
``ARTWORK_LEARNER=process`` (the default) a process of its own that this command starts and
keeps running (:mod:`artwork.bandit.learner_process`), else the worker holding the learner lock.
Each serving process collects young objects every ``ARTWORK_GC_THRESHOLD`` allocations and
leaves its startup objects out of collections (:func:`tune_collector`).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Any, Literal

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from artwork.bandit.learner_process import LearnerProcess


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
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default ARTWORK_WORKERS, else the number of CPU cores)",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="log a line per request (default ARTWORK_ACCESS_LOG, off)",
    )


def serve_workers(requested: int | None, settings: Settings) -> int:
    """How many worker processes to run: asked for, configured, or one per CPU core.

    Raises:
        ValueError: ``requested`` < 1.
    """
    if requested is not None and requested < 1:
        raise ValueError(f"--workers must be >= 1, got {requested}")
    return requested or settings.workers or os.cpu_count() or 1


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.api.logs import log_config

    host, port = args.host or settings.host, args.port or settings.port
    # Image URLs default to this address: build the app with the address actually served.
    settings = settings.model_copy(update={"host": host, "port": port})
    workers = serve_workers(args.workers, settings)
    access_log = settings.access_log if args.access_log is None else args.access_log
    loop: Literal["uvloop", "auto"] = "uvloop" if importlib.util.find_spec("uvloop") else "auto"
    http: Literal["httptools", "auto"] = (
        "httptools" if importlib.util.find_spec("httptools") else "auto"
    )
    print(
        f"artwork: serving http://{host}:{port}/ (API docs at /docs) with {workers} "
        f"worker{'s' if workers > 1 else ''}",
        file=sys.stderr,
    )
    if not settings.public_base_url and host in ("0.0.0.0", "::"):
        print(
            "artwork: image URLs name 127.0.0.1; set ARTWORK_PUBLIC_BASE_URL to the address "
            "clients reach this server at",
            file=sys.stderr,
        )
    learner = _start_learner(settings)
    try:
        _run_uvicorn(settings, workers, log_config(access_log=access_log), loop, http)
    finally:
        if learner is not None:
            learner.stop()
    return EXIT_OK


def _start_learner(settings: Settings) -> LearnerProcess | None:
    """The learner process beside the workers (``ARTWORK_LEARNER=process``), started."""
    if settings.learner != "process":
        return None
    from artwork.bandit.learner_process import LearnerProcess

    return LearnerProcess(os.environ | {"ARTWORK_HOME": str(settings.home)}).start()


def _run_uvicorn(
    settings: Settings,
    workers: int,
    log_config: dict[str, Any],
    loop: Literal["uvloop", "auto"],
    http: Literal["httptools", "auto"],
) -> None:
    import uvicorn

    host, port = settings.host, settings.port
    if workers == 1:
        uvicorn.run(
            serving_app(settings),
            host=host,
            port=port,
            log_config=log_config,
            access_log=False,  # the service writes its own (artwork.access)
            loop=loop,
            http=http,
        )
        return
    # Several processes: each builds the app from the environment (settings travel there).
    os.environ["ARTWORK_HOME"] = str(settings.home)
    os.environ["ARTWORK_HOST"] = host
    os.environ["ARTWORK_PORT"] = str(port)
    uvicorn.run(
        "artwork.cli.serve:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config,
        access_log=False,
        loop=loop,
        http=http,
    )


def worker_app() -> FastAPI:
    """The app of one of several serving processes (uvicorn's factory, in the worker)."""
    return serving_app(get_settings())


def serving_app(settings: Settings) -> FastAPI:
    """The app of a serving process, its collector tuned (:func:`tune_collector`)."""
    from artwork.app import create_app

    app = create_app(settings)
    tune_collector(settings.gc_threshold)
    return app


def tune_collector(threshold: int) -> None:
    """Set the garbage collector of a serving process: collect the youngest generation every
    ``threshold`` allocations (0: Python's default) and leave what exists now (modules, the
    app, settings) out of every later collection.

    A page allocates some thousand objects that live for the request; at Python's default
    (700) that started a young collection about every page and a full one (every object of
    the caches) every ~130 pages: ~1 ms of a page's ~13 in process. At 10,000: ~0.2 ms.
    """
    if threshold > 0:
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(threshold, middle, oldest)
    gc.freeze()


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.catalog.keys import KeyStore
    from artwork.demo.catalog import build_sample_catalog

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

"""The ``artwork`` command.

Exit codes: 0 success, 1 an artwork error (the reason on one line of stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from artwork.config import Settings, get_settings
from artwork.errors import ArtworkError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artwork",
        description="Personalised artwork: extract variants from video, serve them per member.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="extract artwork variants from a video file")
    ingest.add_argument("video", type=Path, help="video file (any format FFmpeg decodes)")
    ingest.add_argument("--title-id", required=True, help="catalogue id: letters, digits, . _ -")
    ingest.add_argument("--name", required=True, help="display name")
    ingest.add_argument("--genre", action="append", default=[], help="a genre (repeatable)")
    ingest.add_argument("--replace", action="store_true", help="re-extract an existing title")
    ingest.add_argument("--json", action="store_true", help="print one JSON object")

    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    _add_server_options(serve)

    demo = commands.add_parser(
        "demo", help="build the sample catalogue in ARTWORK_HOME (once) and serve it"
    )
    _add_server_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="build the catalogue and exit")

    variants = commands.add_parser("variants", help="editorial state of variants")
    variant_commands = variants.add_subparsers(dest="variant_command", required=True)
    for verb in ("approve", "reject"):
        sub = variant_commands.add_parser(verb, help=f"{verb} a variant")
        sub.add_argument("variant_id")
    return parser


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="bind address (default ARTWORK_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (default ARTWORK_PORT)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, get_settings())
    except ArtworkError as exc:
        print(f"artwork: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.services import Services  # keeps `artwork --help` fast

    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    services = Services.from_settings(settings)
    try:
        if args.command == "ingest":
            return _ingest(services, args)
        if args.command == "demo":
            from artwork.samples import build_sample_catalog

            build_sample_catalog(services, log=lambda line: print(line, file=sys.stderr))
            if args.no_serve:
                return EXIT_OK
            services.close()
            return _serve(settings, args.host, args.port)
        if args.command == "variants":
            from artwork.domain import VariantStatus

            status = {"approve": VariantStatus.APPROVED, "reject": VariantStatus.REJECTED}
            services.catalog.set_variant_status(args.variant_id, status[args.variant_command])
            print(f"{args.variant_id}: {status[args.variant_command].value}")
            return EXIT_OK
    finally:
        services.close()
    raise AssertionError(f"unhandled command {args.command!r}")


def _ingest(services: Any, args: argparse.Namespace) -> int:
    result = services.ingestor.ingest(
        args.video,
        title_id=args.title_id,
        name=args.name,
        genres=args.genre,
        replace=args.replace,
    )
    media_root = services.media.root
    if args.json:
        payload = {
            "title_id": result.title.title_id,
            "embedder": result.embedder,
            "frames_analysed": result.frames_analysed,
            "seconds": round(result.seconds, 3),
            "variants": [
                {
                    "variant_id": v.variant_id,
                    "frame_time_s": round(v.frame_time_s, 3),
                    "score": round(v.score, 4),
                    "scores": {k: round(s, 4) for k, s in v.scores.items()},
                    "tags": {k: round(s, 4) for k, s in v.tags.items()},
                    "status": v.status.value,
                    "image_path": str(media_root / v.image_path),
                }
                for v in result.variants
            ],
        }
        print(json.dumps(payload))
    else:
        print(
            f"{result.title.title_id}: {len(result.variants)} variants from "
            f"{result.frames_analysed} frames in {result.seconds:.1f}s ({result.embedder})"
        )
        for v in result.variants:
            print(f"  {v.variant_id}  t={v.frame_time_s:7.2f}s  score={v.score:.3f}  {v.status}")
    return EXIT_OK


def _serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from artwork.api.app import create_app

    bind_host, bind_port = host or settings.host, port or settings.port
    print(f"artwork: serving http://{bind_host}:{bind_port}/ (API docs at /docs)", file=sys.stderr)
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())

"""``artwork ingest``: extract artwork variants from a video into the catalogue."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from artwork.cli.base import EXIT_OK, Subcommands, open_services
from artwork.config import Settings


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("ingest", help="extract artwork variants from a video file")
    parser.add_argument("video", type=Path, help="video file (any format FFmpeg decodes)")
    parser.add_argument("--title-id", required=True, help="catalogue id: letters, digits, . _ -")
    parser.add_argument("--name", required=True, help="display name")
    parser.add_argument("--genre", action="append", default=[], help="a genre (repeatable)")
    parser.add_argument("--replace", action="store_true", help="re-extract an existing title")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    with open_services(settings) as services:
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

"""``artwork upload``: send a video and its metadata to a running artwork service.

The editor's path when the video is on their machine and the catalogue is on the server
(``POST /v1/titles``); prints the created title's variants, or the server's error on one line.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
from pathlib import Path

from artwork.cli.base import EXIT_OK, Subcommands
from artwork.config import Settings
from artwork.errors import InvalidInputError, RemoteError


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("upload", help="upload a video to a running artwork service")
    parser.add_argument("video", type=Path)
    parser.add_argument("--server", default=None, help="base URL (default http://HOST:PORT)")
    parser.add_argument("--title-id", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--genre", action="append", default=[], help="a genre (repeatable)")
    parser.add_argument("--replace", action="store_true")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")
    parser.add_argument("--json", action="store_true", help="print the server's JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    video: Path = args.video
    if not video.is_file():
        raise InvalidInputError(f"video {video} does not exist or is not a file")
    server = (args.server or f"http://{settings.host}:{settings.port}").rstrip("/")
    content_type = mimetypes.guess_type(video.name)[0] or "application/octet-stream"
    data = {
        "title_id": args.title_id,
        "name": args.name,
        "genre": args.genre,
        "replace": str(args.replace).lower(),
    }
    try:
        with video.open("rb") as handle:
            response = httpx.post(
                f"{server}/v1/titles",
                data=data,
                files={"video": (video.name, handle, content_type)},
                timeout=args.timeout,
            )
    except httpx.HTTPError as exc:
        raise RemoteError(f"cannot reach {server}: {exc}; is `artwork serve` running?") from exc
    if response.status_code != 201:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise RemoteError(f"server answered {response.status_code}: {message}")
    body = response.json()
    if args.json:
        print(json.dumps(body))
    else:
        print(f"{body['title_id']}: {len(body['variants'])} variants")
        for v in body["variants"]:
            print(f"  {v['variant_id']}  t={v['frame_time_s']:7.2f}s  {v['status']}  {v['url']}")
    return EXIT_OK

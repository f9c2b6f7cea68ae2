"""``artwork upload``: send videos and their metadata to a running artwork service.

The editor's path when the videos are on their machine and the catalogue is on the server.
One or many videos, metadata from flags or a CSV (``title_id,name,genres,video``; genres
separated by ``|``; video paths relative to the CSV), the key from ``--key`` or
``ARTWORK_API_KEY``. Each upload shows a bar for the bytes sent, then (``--wait``) one for
its extraction job. Connection failures, 429 and 503 are retried with backoff (honouring
``Retry-After``), each title from the start of its file; the batch goes on where it was.
``--json`` prints one object per title: ``{"title_id", "job_id", "state", "variants"}``.
Exit code 0 only when every title succeeded (was accepted, without ``--wait``).
"""

from __future__ import annotations

import argparse
import csv
import json
import mimetypes
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from artwork.cli.base import EXIT_ERROR, EXIT_OK, Subcommands
from artwork.config import Settings
from artwork.errors import InvalidInputError, RemoteError

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = frozenset({429, 502, 503, 504})
FINISHED = ("succeeded", "failed")


@dataclass(frozen=True, slots=True)
class UploadItem:
    """One title to upload: the file and its metadata."""

    video: Path
    title_id: str
    name: str
    genres: tuple[str, ...] = ()


@dataclass
class UploadOptions:
    replace: bool = False
    auto_approve: bool = False
    wait: bool = False
    retries: int = 5
    progress: bool = False
    poll_s: float = 1.0
    wait_timeout_s: float = 3600.0
    sleep: Callable[[float], None] = time.sleep


@dataclass
class UploadOutcome:
    title_id: str
    job_id: str | None = None
    state: str = "failed"
    message: str = ""
    variants: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state in ("succeeded", "queued", "running") and not self.message

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title_id": self.title_id,
            "job_id": self.job_id,
            "state": self.state,
            "variants": self.variants,
        }
        if self.message:
            body["message"] = self.message
        return body


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("upload", help="upload videos to a running artwork service")
    parser.add_argument("video", type=Path, nargs="*", help="video files (or use --csv)")
    parser.add_argument("--csv", type=Path, help="title_id,name,genres,video per line")
    parser.add_argument("--server", default=None, help="base URL (default http://HOST:PORT)")
    parser.add_argument("--key", default=None, help="editor API key (default $ARTWORK_API_KEY)")
    parser.add_argument("--title-id", help="title id (one video only; default from file name)")
    parser.add_argument("--name", help="title name (one video only; default the file's stem)")
    parser.add_argument("--genre", action="append", default=[], help="a genre (repeatable)")
    parser.add_argument("--replace", action="store_true", help="replace existing titles")
    parser.add_argument(
        "--auto-approve", action="store_true", help="approve variants that pass the threshold"
    )
    parser.add_argument("--wait", action="store_true", help="wait for every extraction job")
    parser.add_argument("--json", action="store_true", help="one JSON object per title")
    parser.add_argument("--retries", type=int, default=5, help="retries per request (5)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per request")
    bars = parser.add_mutually_exclusive_group()
    bars.add_argument("--progress", dest="progress", action="store_true", default=None)
    bars.add_argument("--no-progress", dest="progress", action="store_false")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    key = args.key or os.environ.get("ARTWORK_API_KEY")
    if not key:
        raise InvalidInputError("give an editor API key with --key or ARTWORK_API_KEY")
    items = items_from_args(args)
    server = (args.server or f"http://{settings.host}:{settings.port}").rstrip("/")
    options = UploadOptions(
        replace=args.replace,
        auto_approve=args.auto_approve,
        wait=args.wait,
        retries=max(0, args.retries),
        progress=sys.stderr.isatty() if args.progress is None else args.progress,
    )
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {key}"}, timeout=args.timeout
    ) as client:
        outcomes = upload_titles(client, items, options)
        failed = 0
        for outcome in outcomes:
            failed += not outcome.ok
            if args.json:
                print(json.dumps(outcome.as_json()), flush=True)
            else:
                _print_outcome(outcome)
    return EXIT_OK if failed == 0 else EXIT_ERROR


def items_from_args(args: argparse.Namespace) -> list[UploadItem]:
    """The titles to upload, from ``--csv`` or the video arguments.

    Raises:
        InvalidInputError: no videos, a missing file, a bad CSV, or --title-id with several.
    """
    if args.csv is not None:
        if args.video or args.title_id or args.name:
            raise InvalidInputError("give either --csv or videos (with --title-id/--name)")
        return items_from_csv(args.csv)
    if not args.video:
        raise InvalidInputError("give one or more videos, or --csv FILE")
    if len(args.video) > 1 and (args.title_id or args.name):
        raise InvalidInputError("--title-id and --name go with a single video; use --csv")
    from artwork.ingest import title_id_for

    items = []
    for video in args.video:
        _check_file(video)
        items.append(
            UploadItem(
                video,
                args.title_id or title_id_for(video),
                args.name or video.stem,
                tuple(args.genre),
            )
        )
    return items


def items_from_csv(path: Path) -> list[UploadItem]:
    """Read ``title_id,name,genres,video`` rows (genres separated by ``|``)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc
    items = []
    for line, row in enumerate(rows, start=2):
        video, title_id, name = (row.get(k, "") or "" for k in ("video", "title_id", "name"))
        if not (video.strip() and title_id.strip() and name.strip()):
            raise InvalidInputError(f"{path}:{line}: title_id, name and video are required")
        file = (path.parent / video.strip()).resolve()
        _check_file(file)
        genres = tuple(g.strip() for g in (row.get("genres") or "").split("|") if g.strip())
        items.append(UploadItem(file, title_id.strip(), name.strip(), genres))
    if not items:
        raise InvalidInputError(f"{path}: no titles (header: title_id,name,genres,video)")
    return items


def _check_file(video: Path) -> None:
    if not video.is_file():
        raise InvalidInputError(f"video {video} does not exist or is not a file")


def upload_titles(
    client: httpx.Client, items: list[UploadItem], options: UploadOptions
) -> Iterator[UploadOutcome]:
    """Upload each item (and with ``options.wait`` follow its job); yields one outcome each."""
    for item in items:
        outcome = _upload_one(client, item, options)
        if options.wait and outcome.job_id is not None and outcome.ok:
            _wait_for_job(client, outcome, options)
        yield outcome


def _upload_one(client: httpx.Client, item: UploadItem, options: UploadOptions) -> UploadOutcome:
    data = {
        "title_id": item.title_id,
        "name": item.name,
        "genre": list(item.genres),
        "replace": str(options.replace).lower(),
        "auto_approve": str(options.auto_approve).lower(),
    }
    content_type = mimetypes.guess_type(item.video.name)[0] or "application/octet-stream"
    size = item.video.stat().st_size

    def send() -> httpx.Response:
        with item.video.open("rb") as handle, _Bar(options, size, item.title_id, "B") as bar:
            upload = _CountingFile(handle, bar)
            return client.post(
                "/v1/titles",
                data=data,
                files={"video": (item.video.name, upload, content_type)},  # type: ignore[dict-item]
            )

    try:
        response = _with_retries(send, options)
    except RemoteError as exc:
        return UploadOutcome(item.title_id, message=exc.message)
    if response.status_code != 202:
        return UploadOutcome(item.title_id, message=_error_of(response))
    job = response.json()
    return UploadOutcome(item.title_id, job_id=job["job_id"], state=job["state"])


def _wait_for_job(client: httpx.Client, outcome: UploadOutcome, options: UploadOptions) -> None:
    deadline = time.monotonic() + options.wait_timeout_s
    with _Bar(options, 100, f"{outcome.title_id} extraction", "%") as bar:
        shown = 0
        while True:
            try:
                response = _with_retries(lambda: client.get(f"/v1/jobs/{outcome.job_id}"), options)
            except RemoteError as exc:
                outcome.state, outcome.message = "unknown", exc.message
                return
            if response.status_code != 200:
                outcome.state, outcome.message = "unknown", _error_of(response)
                return
            job = response.json()
            done = int(100 * float(job.get("progress", 0.0)))
            bar(done - shown)
            shown = max(shown, done)
            outcome.state = job["state"]
            if outcome.state in FINISHED:
                outcome.message = job.get("message", "")
                break
            if time.monotonic() > deadline:
                outcome.message = "gave up waiting for the job"
                return
            options.sleep(options.poll_s)
    if outcome.state == "succeeded":
        title = _with_retries(lambda: client.get(f"/v1/titles/{outcome.title_id}"), options)
        if title.status_code == 200:
            outcome.variants = [
                {k: v.get(k) for k in ("variant_id", "status", "score", "frame_time_s", "url")}
                for v in title.json().get("variants", [])
            ]


def _with_retries(send: Callable[[], httpx.Response], options: UploadOptions) -> httpx.Response:
    """``send()``, again after connection failures, 429 and 5xx-unavailable, with backoff."""
    import httpx

    for attempt in range(options.retries + 1):
        last = attempt == options.retries
        try:
            response = send()
        except httpx.TransportError as exc:
            if last:
                raise RemoteError(f"cannot reach the server: {exc}") from exc
            options.sleep(_backoff(attempt, None))
            continue
        if response.status_code in RETRY_STATUSES and not last:
            options.sleep(_backoff(attempt, response.headers.get("retry-after")))
            continue
        return response
    raise AssertionError("unreachable")


def _backoff(attempt: int, retry_after: str | None) -> float:
    if retry_after is not None:
        try:
            return min(60.0, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return float(min(30.0, 0.5 * 2**attempt))


def _error_of(response: httpx.Response) -> str:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    return f"server answered {response.status_code}: {message}"


class _CountingFile:
    """A file whose reads advance a progress bar (httpx reads upload files in chunks)."""

    def __init__(self, handle: IO[bytes], advance: Callable[[int], None]) -> None:
        self._handle = handle
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._advance(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()


class _Bar:
    """A tqdm bar on stderr (its ``update`` as the value), or a no-op when disabled."""

    def __init__(self, options: UploadOptions, total: int, desc: str, unit: str) -> None:
        self._enabled = options.progress
        self._total, self._desc, self._unit = total, desc, unit
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self._enabled:
            return lambda _n: None
        from tqdm import tqdm

        self._bar = tqdm(
            total=self._total,
            desc=self._desc,
            unit=self._unit,
            unit_scale=self._unit == "B",
            file=sys.stderr,
            dynamic_ncols=True,
        )
        bar = self._bar
        return lambda n: bar.update(n) if n > 0 else None

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _print_outcome(outcome: UploadOutcome) -> None:
    if not outcome.ok:
        print(f"{outcome.title_id}: {outcome.state}: {outcome.message}", file=sys.stderr)
        return
    print(f"{outcome.title_id}: job {outcome.job_id} {outcome.state}")
    for v in outcome.variants:
        print(f"  {v['variant_id']}  t={v['frame_time_s']:7.2f}s  {v['status']}  {v['url']}")

"""``artwork ingest``: extract artwork variants from video files into the catalogue.

One title per file; each file succeeds or fails on its own (a one-line reason on stderr), and
the exit code is 1 if any failed. Title ids default to slugs of the file stems and names to the
stems; ``--title-id`` and ``--name`` are for a single file. ``--ray`` spreads the extraction
over a Ray cluster while this process stores the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artwork.cli.base import EXIT_ERROR, EXIT_OK, EXIT_USAGE, Subcommands
from artwork.config import Settings
from artwork.errors import ArtworkError

if TYPE_CHECKING:  # the extractor's imports (OpenCV, PyAV) would slow `artwork --help`
    from artwork.ingest import EarlyScan, IngestJob, Ingestor, IngestOutcome, IngestResult
    from artwork.scoring.loading import EmbedderLoader


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "ingest",
        help="extract artwork variants from video files",
        description="Extract artwork variants from each VIDEO into the catalogue, one title "
        "per file. Title ids default to slugs of the file names, names to the file stems.",
    )
    parser.add_argument(
        "videos",
        nargs="+",
        type=Path,
        metavar="VIDEO",
        help="video files (any format FFmpeg reads)",
    )
    parser.add_argument("--title-id", help="catalogue id (one VIDEO only): letters, digits, . _ -")
    parser.add_argument("--name", help="display name (one VIDEO only); default the file stem")
    parser.add_argument("--genre", action="append", default=[], help="a genre (repeatable)")
    parser.add_argument("--replace", action="store_true", help="re-extract existing titles")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per title, one per line (with several files, failed ones too, "
        "with 'error')",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="extract on a Ray cluster: 'auto' (the cluster of `ray start`), 'local', or an "
        "address; the files must be readable at the same path by every worker",
    )
    # Everything is closed and committed when `run` returns; Ray's own exit handlers stop
    # the cluster an ingest started, so those must run.
    parser.set_defaults(handler=run, parser=parser, skip_teardown=lambda args: not args.ray)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from artwork.ingest import IngestJob, IngestOutcome

    videos: list[Path] = args.videos
    if len(videos) > 1 and (args.title_id is not None or args.name is not None):
        args.parser.print_usage(sys.stderr)
        print(
            "artwork ingest: error: --title-id and --name need exactly one VIDEO "
            f"(got {len(videos)}); ids and names default to the file names",
            file=sys.stderr,
        )
        return EXIT_USAGE
    single = len(videos) == 1
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    failed = 0
    jobs: list[IngestJob] = []
    for video in videos:
        try:
            jobs.append(
                IngestJob.for_file(
                    video,
                    title_id=args.title_id,
                    name=args.name,
                    genres=args.genre,
                    replace=args.replace,
                )
            )
        except ArtworkError as exc:
            failed += 1
            _report_failure(IngestOutcome(IngestJob(video, "", ""), error=exc), args, single)
    # The first file decodes while the database layer is imported and opened.
    early = _early_scan(jobs[0], settings) if jobs and not args.ray else None
    try:
        failed += _ingest(jobs, args, settings, early, show_progress, single)
    finally:
        if early is not None:
            early.close()  # cancelled if the ingest ended without it; never left running
    return EXIT_ERROR if failed else EXIT_OK


def _early_scan(job: IngestJob, settings: Settings) -> EarlyScan:
    from artwork.ingest import EarlyScan
    from artwork.scoring.loading import EmbedderLoader
    from artwork.scoring.registry import create_embedder

    return EarlyScan(job.path, settings, EmbedderLoader(create_embedder, settings))


def _ingest(
    jobs: list[IngestJob],
    args: argparse.Namespace,
    settings: Settings,
    early: EarlyScan | None,
    show_progress: bool,
    single: bool,
) -> int:
    """Ingest the jobs; how many failed."""
    failed = 0
    with open_ingestor(settings, loader=early.loader if early else None) as ingestor:
        media_root = ingestor.media.root
        with ExitStack() as stack:
            if args.ray:
                from artwork.ingest_ray import ingest_on_ray

                bar = stack.enter_context(_bar(show_progress, len(jobs), "titles"))
                outcomes: Iterator[IngestOutcome] = ingest_on_ray(
                    ingestor,
                    jobs,
                    address=args.ray,
                    on_done=lambda _outcome: bar(1),
                )
            else:
                outcomes = ingestor.ingest_all(
                    jobs, progress=_per_file_bars(show_progress, stack), early=early
                )
            for outcome in outcomes:
                if outcome.result is not None:
                    _report_success(outcome.result, outcome.job, media_root, args)
                else:
                    failed += 1
                    _report_failure(outcome, args, single)
    return failed


@contextmanager
def open_ingestor(
    settings: Settings, *, loader: EmbedderLoader | None = None
) -> Iterator[Ingestor]:
    """The catalogue, the media folder and an :class:`~artwork.ingest.Ingestor` over them,
    built as :class:`~artwork.wiring.Services` builds them, without the serving parts (the
    bandit, its writers and their imports), which an ingest never uses and whose imports
    would lengthen every run; the database is closed afterwards.

    Raises:
        StorageError: the database or media folder cannot be opened.
    """
    from artwork.catalog.database import create_database_engine
    from artwork.catalog.media import MediaStore
    from artwork.catalog.repository import Catalog
    from artwork.ingest import Ingestor
    from artwork.scoring.registry import create_embedder

    engine = create_database_engine(settings.resolved_database_url)
    try:
        media = MediaStore(settings.resolved_media_dir)
        ingestor = Ingestor(Catalog(engine), media, settings, create_embedder, loader=loader)
        try:
            yield ingestor
        finally:
            ingestor.close()
    finally:
        engine.dispose()


def _report_success(
    result: IngestResult, job: IngestJob, media_root: Path, args: argparse.Namespace
) -> None:
    if args.json:
        print(json.dumps(result_json(result, media_root, video=job.path)), flush=True)
        return
    print(
        f"{result.title.title_id}: {len(result.variants)} variants from "
        f"{result.frames_analysed} frames ({result.shots} shots, {result.detector} detector) "
        f"in {result.seconds:.1f}s ({result.embedder})",
        flush=True,
    )
    for v in result.variants:
        print(f"  {v.variant_id}  t={v.frame_time_s:7.2f}s  score={v.score:.3f}  {v.status}")


def _report_failure(outcome: IngestOutcome, args: argparse.Namespace, single: bool) -> None:
    assert outcome.error is not None
    message = outcome.error.message
    video = str(outcome.job.path)
    if video not in message:
        message = f"{video}: {message}"
    print(f"artwork: error: {message}", file=sys.stderr, flush=True)
    if args.json and not single:
        payload = {
            "video": video,
            "title_id": outcome.job.title_id or None,
            "error": {"code": outcome.error.code, "message": outcome.error.message},
        }
        print(json.dumps(payload), flush=True)


def result_json(
    result: IngestResult, media_root: Path, *, video: Path | None = None
) -> dict[str, Any]:
    """The JSON object ``artwork ingest --json`` prints for one stored title."""
    payload: dict[str, Any] = {"title_id": result.title.title_id}
    if video is not None:
        payload["video"] = str(video)
    payload |= {
        "embedder": result.embedder,
        "detector": result.detector,
        "shots": result.shots,
        "frames_decoded": result.frames_decoded,
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
                "crops": {
                    name: {"image_path": str(media_root / crop.image_path), "box": list(crop.box)}
                    for name, crop in v.crops.items()
                },
            }
            for v in result.variants
        ],
    }
    return payload


@contextmanager
def _bar(enabled: bool, total: int, unit: str) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr, as its ``update(n)``; a no-op when disabled."""
    if not enabled:
        yield lambda _n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True) as bar:

        def update(n: int) -> None:
            bar.update(n)

        yield update


def _per_file_bars(
    enabled: bool, stack: ExitStack
) -> Callable[[IngestJob], Callable[[int, int], None] | None]:
    """Gives each job a percent bar (closed when the next job starts, or at the end)."""
    current: list[Any] = []

    def for_job(job: IngestJob) -> Callable[[int, int], None] | None:
        for bar in current:
            bar.close()
        current.clear()
        if not enabled:
            return None
        from tqdm import tqdm

        bar = stack.enter_context(
            tqdm(total=100, unit="%", desc=job.path.name, file=sys.stderr, dynamic_ncols=True)
        )
        current.append(bar)

        def update(done: int, total: int) -> None:
            bar.n = min(done, total)
            bar.refresh()

        return update

    return for_job

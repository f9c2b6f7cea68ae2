"""The extractor benchmark: the whole ``artwork ingest`` process against real time and against
PySceneDetect.

``scripts/bench_extract.py [--minutes N] [--grain [SIGMA]] [--batch N] [--json] [--video FILE]
[--no-first-ingest]`` calls :func:`main`. Without ``--video`` it generates (once; cached under
``~/.cache/artwork/bench/``, keyed by its parameters) a 1080p24 H.264 film of ``--minutes``
(default 10) from :func:`~artwork.testing.films.write_film_like_video`: textured sets, camera
motion, grain (``--grain`` makes it heavy: temporal noise that makes every packet's size noisy,
as real film grain does), a cut every 2-8 s, some fades and dissolves, encoded by x264 with its
default GOP. Then:

0. ``artwork models prepare`` as a subprocess (timed: ``models_prepare_seconds``), so the
   model cache holds the ONNX export before anything is timed, as after a user's set-up;
1. in this process, the pipeline: :func:`~artwork.candidates.extractor.extract` (shot
   detection, scoring, embedding with the default MobileNetV2, selection, full-resolution
   stills, tags), timed from the call to its return, the model loaded beforehand (timed
   apart); its shots are scored against the planted truth;
2. the peak resident memory of this process so far (``ru_maxrss``);
3. **the headline**: ``artwork ingest VIDEO --json`` as a subprocess, from its start to its
   exit (interpreter start-up, imports, model load, extraction, crops, JPEGs, the database),
   with a fresh ``ARTWORK_HOME`` and the model cache of step 0 (warm: the export of a fresh
   machine's first ingest is not counted here), and its own peak RSS and CPU time
   (``wait4``); its real-time factor is ``realtime_factor``;
   with ``first_ingest`` (the default), also the same with an empty model cache, as the very
   first ingest on a machine that skipped ``artwork models prepare`` (the export included):
   ``first_ingest_wall_seconds``;
4. with ``--batch N``: ``artwork ingest`` of N copies (links) of the video in one process,
   against N times the single run;
5. the reference: PySceneDetect's ``detect-content`` (``ContentDetector``, default threshold)
   on the same file.

With the planted truth known, both are also scored on cuts (a detected cut within one frame
of a planted one is a hit) and our pass on fades and dissolves (overlap).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from artwork.config import Settings
from artwork.domain import Image, VideoInfo
from artwork.testing.films import FilmTruth, film_truth, write_film_like_video
from artwork.video.shots import Progress, SamplesReady, SamplingPlan, ShotDetector, ShotScan

GENERATOR_VERSION = 1
"""Bumped whenever the generated film changes, so a stale cached file is not reused."""
DEFAULT_MINUTES = 10.0
DEFAULT_GRAIN = 4.5
"""Grain of the default film (luma levels, standard deviation)."""
HEAVY_GRAIN = 12.0
"""Grain of ``--grain`` without a value: noisy enough that packet sizes vary by frame."""
TOLERANCE_FRAMES = 1


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One benchmark run (the JSON ``--json`` prints)."""

    video: str
    video_seconds: float
    resolution: str
    detector: str
    realtime_factor: float | None
    """Of the whole ``artwork ingest`` process (start to exit); ``None`` when not run."""
    process_wall_seconds: float | None
    process_cpu_seconds: float | None
    """User plus system CPU time of that process (less sensitive to others' load than wall)."""
    process_peak_rss_mb: float | None
    first_ingest_wall_seconds: float | None
    """The whole process with an empty model cache (exporting the model first); ``None``
    when not run."""
    models_prepare_seconds: float | None
    """``artwork models prepare`` before the runs (a check when the cache is warm)."""
    inprocess_realtime_factor: float
    wall_seconds: float
    """The in-process extraction (model loaded beforehand)."""
    model_load_seconds: float
    pyscenedetect_wall_seconds: float | None
    ratio_vs_pyscenedetect: float | None
    peak_rss_mb: float
    shots_found: int
    frames_decoded: int
    frames_total: int
    frames_analysed: int
    candidates: int
    cuts_planted: int | None
    cut_recall: float | None
    cut_precision: float | None
    transitions_planted: int | None
    transitions_found: int | None
    pyscenedetect_cuts: int | None
    pyscenedetect_cut_recall: float | None
    pyscenedetect_cut_precision: float | None
    batch_files: int | None
    batch_wall_seconds: float | None
    batch_vs_single: float | None
    """Batch wall over ``batch_files`` times the single process's wall (< 1: pipelining pays)."""
    grain: float | None
    cpus: int
    load_average: float
    """The 1-minute load average when the run ended (others' work slows every figure)."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/artwork/bench`` (default ``~/.cache/artwork/bench``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "artwork" / "bench"


def bench_video(
    minutes: float = DEFAULT_MINUTES,
    *,
    seed: int = 0,
    width: int = 1920,
    height: int = 1080,
    fps: int = 24,
    grain: float = DEFAULT_GRAIN,
    folder: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> FilmTruth:
    """The benchmark film of these parameters, generated once and then reused.

    Args:
        minutes: its length (> 0).
        seed: which film.
        width: frame width.
        height: frame height.
        fps: frame rate.
        grain: film grain, standard deviation in luma levels (>= 0).
        folder: where films are cached; default :func:`cache_dir`.
        log: told when a film is being generated (it takes about a minute per minute).

    Returns:
        Its planted ground truth (``path`` is the cached file).
    """
    if not (math.isfinite(minutes) and minutes > 0):
        raise ValueError(f"minutes must be > 0, got {minutes}")
    if not (math.isfinite(grain) and grain >= 0):
        raise ValueError(f"grain must be >= 0, got {grain}")
    folder = folder or cache_dir()
    grained = "" if grain == DEFAULT_GRAIN else f"-grain{grain:g}"
    name = (
        f"film-{minutes:g}min-{width}x{height}-{fps}fps-seed{seed}{grained}"
        f"-v{GENERATOR_VERSION}.mp4"
    )
    path = folder / name
    seconds = minutes * 60
    if path.is_file():
        return film_truth(path, seconds=seconds, width=width, height=height, fps=fps, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    if log is not None:
        log(f"generating {path} ({minutes:g} min of 1080p; cached for later runs)")
    write_film_like_video(
        partial, seconds=seconds, width=width, height=height, fps=fps, seed=seed, grain=grain
    )
    partial.replace(path)
    return film_truth(path, seconds=seconds, width=width, height=height, fps=fps, seed=seed)


def cut_scores(
    found_s: Sequence[float], planted_s: Sequence[float], fps: float
) -> tuple[float, float]:
    """Recall and precision of detected cuts: a hit lies within one frame of a planted cut.

    Args:
        found_s: detected cut times.
        planted_s: true cut times.
        fps: frame rate (the tolerance is one frame).
    """
    tolerance = (TOLERANCE_FRAMES + 0.5) / fps
    hits = sum(1 for t in planted_s if any(abs(t - f) <= tolerance for f in found_s))
    true = sum(1 for f in found_s if any(abs(t - f) <= tolerance for t in planted_s))
    recall = hits / len(planted_s) if planted_s else 1.0
    precision = true / len(found_s) if found_s else 1.0
    return recall, precision


def run_benchmark(
    video: Path,
    truth: FilmTruth | None,
    settings: Settings,
    *,
    reference: bool = True,
    process: bool = True,
    batch: int = 0,
    grain: float | None = None,
    first_ingest: bool = False,
) -> BenchResult:
    """Time the pipeline, the whole process (and PySceneDetect) on ``video``; see the module
    docstring.

    Args:
        video: the file.
        truth: its planted truth, if known.
        settings: extraction settings (the embedder named there is used); the subprocesses
            get them through the inherited ``ARTWORK_*`` environment, except ``ARTWORK_HOME``
            (a fresh temporary one) and ``ARTWORK_MODEL_CACHE_DIR`` (this one's, warm).
        reference: also run PySceneDetect.
        process: also time ``artwork ingest`` as a subprocess (the headline figure).
        batch: also time one ``artwork ingest`` of this many copies (0: not; else >= 2).
        grain: the film's grain, recorded in the result.
        first_ingest: also time ``artwork ingest`` with an empty model cache (the export of a
            machine's first ingest included).
    """
    if batch and batch < 2:
        raise ValueError(f"batch must be 0 or >= 2, got {batch}")
    prepared = prepare_models(settings)
    from artwork.candidates.extractor import extract
    from artwork.scoring.registry import create_embedder
    from artwork.video.decode import probe
    from artwork.video.registry import create_shot_detector

    info = probe(video)
    loading = time.perf_counter()
    embedder = create_embedder(settings)  # the cache is warm: prepare_models filled it
    embedder.embed([_blank()])  # the first call warms the runtime up
    model_load = time.perf_counter() - loading

    detector = _Recording(create_shot_detector(settings, info))
    started = time.perf_counter()
    extraction = extract(video, settings, embedder, detector=detector)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    recall = precision = None
    found_transitions = None
    if truth is not None and detector.last is not None:
        shots = detector.last.shots
        recall, precision = cut_scores(shots.cuts_s, truth.cuts_s, info.fps)
        found_transitions = sum(
            1
            for planted in truth.transitions
            if any(
                t.start_s < planted.end_s and planted.start_s < t.end_s for t in shots.transitions
            )
        )

    single: _ProcessRun | None = None
    batched: _ProcessRun | None = None
    if process or batch:
        single = ingest_process([video], settings)
    if batch:
        with tempfile.TemporaryDirectory(prefix="artwork-bench-batch-") as folder:
            copies = []
            for number in range(batch):
                copy = Path(folder) / f"{video.stem}-copy{number}{video.suffix}"
                copy.symlink_to(video.resolve())
                copies.append(copy)
            batched = ingest_process(copies, settings)
    first: _ProcessRun | None = None
    if first_ingest:
        with tempfile.TemporaryDirectory(prefix="artwork-bench-models-") as empty:
            first = ingest_process([video], settings, model_cache_dir=Path(empty))

    theirs_wall = theirs_cuts = theirs_recall = theirs_precision = None
    if reference:
        theirs_wall, cuts = _pyscenedetect(video)
        theirs_cuts = len(cuts)
        if truth is not None:
            theirs_recall, theirs_precision = cut_scores(cuts, truth.cuts_s, info.fps)

    headline = single.wall_s if single is not None else None
    compared = headline if headline is not None else wall
    return BenchResult(
        video=str(video),
        video_seconds=round(info.duration_s, 2),
        resolution=f"{info.width}x{info.height}@{info.fps:g}",
        detector=extraction.detector,
        realtime_factor=None if headline is None else round(info.duration_s / headline, 1),
        process_wall_seconds=None if headline is None else round(headline, 2),
        process_cpu_seconds=None if single is None else round(single.cpu_s, 2),
        process_peak_rss_mb=None if single is None else round(single.peak_rss_mb, 1),
        first_ingest_wall_seconds=None if first is None else round(first.wall_s, 2),
        models_prepare_seconds=round(prepared, 2),
        inprocess_realtime_factor=round(info.duration_s / wall, 1),
        wall_seconds=round(wall, 2),
        model_load_seconds=round(model_load, 2),
        pyscenedetect_wall_seconds=None if theirs_wall is None else round(theirs_wall, 2),
        ratio_vs_pyscenedetect=None if theirs_wall is None else round(compared / theirs_wall, 3),
        peak_rss_mb=round(peak_mb, 1),
        shots_found=extraction.shots,
        frames_decoded=extraction.frames_decoded,
        frames_total=round(info.duration_s * info.fps),
        frames_analysed=extraction.frames_analysed,
        candidates=len(extraction.candidates),
        cuts_planted=None if truth is None else len(truth.cuts_s),
        cut_recall=None if recall is None else round(recall, 3),
        cut_precision=None if precision is None else round(precision, 3),
        transitions_planted=None if truth is None else len(truth.transitions),
        transitions_found=found_transitions,
        pyscenedetect_cuts=theirs_cuts,
        pyscenedetect_cut_recall=None if theirs_recall is None else round(theirs_recall, 3),
        pyscenedetect_cut_precision=(
            None if theirs_precision is None else round(theirs_precision, 3)
        ),
        batch_files=batch or None,
        batch_wall_seconds=None if batched is None else round(batched.wall_s, 2),
        batch_vs_single=(
            None
            if batched is None or single is None
            else round(batched.wall_s / (batch * single.wall_s), 3)
        ),
        grain=grain,
        cpus=os.cpu_count() or 0,
        load_average=round(os.getloadavg()[0], 2),
    )


@dataclass(frozen=True, slots=True)
class _ProcessRun:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    output: str


def ingest_process(
    videos: Sequence[Path], settings: Settings, *, model_cache_dir: Path | None = None
) -> _ProcessRun:
    """Run ``artwork ingest VIDEO... --json`` in a fresh process and time it start to exit.

    The process gets a temporary ``ARTWORK_HOME`` (an empty catalogue) and this process's
    model cache (or ``model_cache_dir``), and otherwise inherits the environment.

    Raises:
        RuntimeError: the ingest failed (its stderr is quoted).
    """
    with tempfile.TemporaryDirectory(prefix="artwork-bench-home-") as home:
        cache = model_cache_dir or settings.resolved_model_cache_dir
        command = ["ingest", "--json", "--no-progress", *(str(video) for video in videos)]
        return _artwork_process(command, settings, home=Path(home), model_cache_dir=cache)


def prepare_models(settings: Settings) -> float:
    """Run ``artwork models prepare`` for this process's model cache; its wall time.

    Raises:
        RuntimeError: it failed (its stderr is quoted).
    """
    with tempfile.TemporaryDirectory(prefix="artwork-bench-home-") as home:
        run = _artwork_process(
            ["models", "prepare", "--json"],
            settings,
            home=Path(home),
            model_cache_dir=settings.resolved_model_cache_dir,
        )
    return run.wall_s


def _artwork_process(
    arguments: Sequence[str], settings: Settings, *, home: Path, model_cache_dir: Path
) -> _ProcessRun:
    """``artwork ARGUMENTS`` in a fresh process, timed from start to exit, with its own CPU
    time and peak RSS (``wait4``: not mixed with earlier children's)."""
    env = dict(os.environ)
    env["ARTWORK_HOME"] = str(home)
    env["ARTWORK_MODEL_CACHE_DIR"] = str(model_cache_dir)
    env["ARTWORK_SHOT_DETECTOR"] = settings.shot_detector
    env["ARTWORK_EMBEDDER"] = settings.embedder
    env["ARTWORK_EMBEDDER_RUNTIME"] = settings.embedder_runtime
    command = [sys.executable, "-m", "artwork.cli.main", *arguments]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(
            f"artwork {arguments[0]} exited with {child.returncode}: {errors.strip()[-2000:]}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return _ProcessRun(wall, cpu, usage.ru_maxrss / 1024, output)


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench_extract.py``: run the benchmark and print a table or one JSON object."""
    parser = argparse.ArgumentParser(
        prog="bench_extract.py",
        description="Time the artwork extractor (the whole `artwork ingest` process) against "
        "real time and PySceneDetect.",
    )
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="generated length")
    parser.add_argument(
        "--grain",
        type=float,
        nargs="?",
        const=HEAVY_GRAIN,
        default=DEFAULT_GRAIN,
        metavar="SIGMA",
        help=f"film grain of the generated film, in luma levels (default {DEFAULT_GRAIN:g}; "
        f"--grain alone: heavy, {HEAVY_GRAIN:g})",
    )
    parser.add_argument("--video", type=Path, help="benchmark this file instead (no truth)")
    parser.add_argument("--seed", type=int, default=0, help="which generated film")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip PySceneDetect (the reference)"
    )
    parser.add_argument(
        "--no-process",
        action="store_true",
        help="skip the whole-process run (`artwork ingest` in a subprocess)",
    )
    parser.add_argument(
        "--no-first-ingest",
        action="store_true",
        help="skip the run with an empty model cache (a machine's first ingest, with the export)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        metavar="N",
        help="also ingest N copies of the video in one process (N >= 2)",
    )
    parser.add_argument(
        "--detector",
        choices=("auto", "frames", "keyframes"),
        default=None,
        help="shot detector (default ARTWORK_SHOT_DETECTOR, 'auto')",
    )
    args = parser.parse_args(argv)
    if not (math.isfinite(args.minutes) and args.minutes > 0):
        parser.error(f"--minutes must be > 0, got {args.minutes}")
    if not (math.isfinite(args.grain) and args.grain >= 0):
        parser.error(f"--grain must be >= 0, got {args.grain}")
    if args.batch and args.batch < 2:
        parser.error(f"--batch must be >= 2, got {args.batch}")
    from artwork.config import get_settings

    settings = get_settings()
    if args.detector is not None:
        settings = settings.model_copy(update={"shot_detector": args.detector})
    truth: FilmTruth | None = None
    if args.video is not None:
        video = args.video
    else:
        truth = bench_video(
            args.minutes,
            seed=args.seed,
            grain=args.grain,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )
        video = truth.path
    result = run_benchmark(
        video,
        truth,
        settings,
        reference=not args.no_reference,
        process=not args.no_process,
        batch=args.batch,
        grain=None if args.video is not None else args.grain,
        first_ingest=not (args.no_process or args.no_first_ingest),
    )
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        for key, value in asdict(result).items():
            print(f"{key:30} {value}")
    return 0


# --- internals ---------------------------------------------------------------------------------
class _Recording(ShotDetector):
    """Passes a scan through, keeping it, so the benchmark can score the boundaries found."""

    name: ClassVar[str] = "recording"

    def __init__(self, inner: ShotDetector) -> None:
        self.inner = inner
        self.last: ShotScan | None = None

    def scan(
        self,
        path: Path,
        info: VideoInfo,
        plan: SamplingPlan,
        *,
        progress: Progress | None = None,
        on_samples: SamplesReady | None = None,
    ) -> ShotScan:
        self.last = self.inner.scan(path, info, plan, progress=progress, on_samples=on_samples)
        return self.last


def _pyscenedetect(video: Path) -> tuple[float, list[float]]:
    from scenedetect import ContentDetector, detect

    started = time.perf_counter()
    scenes = detect(str(video), ContentDetector(), show_progress=False)
    wall = time.perf_counter() - started
    return wall, [float(start.seconds) for start, _end in scenes[1:]]


def _blank() -> Image:
    return np.zeros((224, 224, 3), np.uint8)

"""Ingestion: a video file in, a title with its artwork variants in the catalogue out.

Three steps, so that the heavy ones can run elsewhere (a Ray worker, see
``artwork.ingest_ray``) and the writes stay in one place:

1. :meth:`Ingestor.check` validates the title id, name and genres (and that the id is free).
2. :func:`prepare_title` (CPU only, writes nothing): extract the candidates, crop each for
   every artwork format (``artwork.candidates.crops``) and encode the full frame and the crops
   as JPEG bytes.
3. :meth:`Ingestor.store` writes the images atomically, one by one, then stores the title and
   its variants (each variant with its crops, tied by its id: their lineage) in one
   transaction. If anything fails, the images written so far are removed: the catalogue and
   media folder are left as they were.

Media layout: ``titles/<title_id>/<variant_id>.jpg`` (the full frame) and
``titles/<title_id>/<variant_id>-<format>.jpg`` (``16x9``, ``2x3``: the crops).
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from artwork.candidates.crops import crop_variant
from artwork.candidates.extractor import (
    ProgressCallback,
    ScannedVideo,
    finish_extraction,
    run_into,
    scan_video,
)
from artwork.catalog.media import MediaStore
from artwork.config import Settings
from artwork.domain import (
    Candidate,
    Embedding,
    Extraction,
    Image,
    Title,
    Variant,
    VariantCrop,
    VariantStatus,
)
from artwork.errors import ArtworkError, InvalidInputError, StorageError, TitleExistsError
from artwork.scoring.base import Embedder
from artwork.scoring.loading import EmbedderLoader
from artwork.scoring.tags import Tagger
from artwork.video.decode import probe

if TYPE_CHECKING:  # the database layer's imports are not needed to start decoding
    from artwork.catalog.repository import Catalog

TITLE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
JPEG_QUALITY = 90


@dataclass(frozen=True, slots=True)
class IngestResult:
    """A stored title, its variants, and how the extraction went."""

    title: Title
    variants: tuple[Variant, ...]
    embedder: str
    frames_analysed: int
    seconds: float
    shots: int = 0
    frames_decoded: int = 0
    detector: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class EncodedImage:
    """A JPEG ready to write, its size, and where it was cut from the full frame.

    Attributes:
        data: the JPEG bytes.
        width: its width in pixels.
        height: its height in pixels.
        box: ``(x, y, w, h)`` of the crop in the full frame (the whole frame for the still).
    """

    data: bytes
    width: int
    height: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, eq=False)
class PreparedVariant:
    """One candidate with its images encoded: everything :meth:`Ingestor.store` writes."""

    time_s: float
    score: float
    scores: Mapping[str, float]
    tags: Mapping[str, float]
    embedding: Embedding
    explanation: str
    still: EncodedImage
    crops: Mapping[str, EncodedImage]


@dataclass(frozen=True, slots=True, eq=False)
class PreparedTitle:
    """An extraction with its images encoded, small enough to send between processes."""

    duration_s: float
    embedder: str
    frames_analysed: int
    frames_decoded: int
    shots: int
    detector: str
    seconds: float
    variants: tuple[PreparedVariant, ...]


@dataclass(frozen=True, slots=True)
class IngestJob:
    """One file to ingest as one title."""

    path: Path
    title_id: str
    name: str
    genres: tuple[str, ...] = ()
    replace: bool = False

    @classmethod
    def for_file(
        cls,
        path: Path,
        *,
        title_id: str | None = None,
        name: str | None = None,
        genres: Sequence[str] = (),
        replace: bool = False,
    ) -> IngestJob:
        """A job whose title id defaults to :func:`title_id_for` the file and name to its stem.

        Raises:
            InvalidInputError: no title id can be made from the file name.
        """
        return cls(
            path=Path(path),
            title_id=title_id if title_id is not None else title_id_for(path),
            name=name if name is not None else Path(path).stem,
            genres=tuple(genres),
            replace=replace,
        )


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """How one job ended: a result, or the error that stopped it (nothing of it was stored)."""

    job: IngestJob
    result: IngestResult | None = None
    error: ArtworkError | None = None


def validate_title_id(title_id: str) -> str:
    """Raises: InvalidInputError naming the rule when ``title_id`` cannot be a URL/path part."""
    if not TITLE_ID_PATTERN.fullmatch(title_id):
        raise InvalidInputError(
            f"title id {title_id!r} is not allowed: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return title_id


def title_id_for(path: Path) -> str:
    """A title id from a file name: its stem, lower-cased, runs of other characters as ``-``.

    Args:
        path: the video file (``Big Buck Bunny (2008).mp4`` gives ``big-buck-bunny-2008``).

    Raises:
        InvalidInputError: nothing usable is left of the stem.
    """
    slug = re.sub(r"[^a-z0-9._]+", "-", Path(path).stem.lower()).strip("-._")[:128]
    if not slug:
        raise InvalidInputError(
            f"cannot make a title id from the file name {Path(path).name!r}; pass --title-id"
        )
    return validate_title_id(slug)


def encode_jpeg(image: Image, *, what: str) -> bytes:
    """JPEG bytes of an RGB ``uint8`` image.

    Raises:
        StorageError: OpenCV could not encode it (``what`` names it in the message).
    """
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise StorageError(f"cannot encode the image of {what}")
    return bytes(encoded.tobytes())


PREPARE_WORKERS = 4
"""Most candidates cropped and encoded at once (OpenCV releases the GIL; one per core)."""


def prepare_title(extraction: Extraction) -> PreparedTitle:
    """Crop every candidate for every artwork format and encode all images (writes nothing).

    The candidates are prepared side by side, one thread per core (at most
    ``PREPARE_WORKERS``): face detection, resizing and JPEG encoding run in OpenCV without the
    GIL.

    Args:
        extraction: what :func:`~artwork.candidates.extractor.extract` returned.
    """
    candidates = extraction.candidates
    workers = max(1, min(len(candidates), os.cpu_count() or 1, PREPARE_WORKERS))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="artwork-crop") as pool:
        variants = list(pool.map(_prepare_variant, range(len(candidates)), candidates))
    return PreparedTitle(
        duration_s=extraction.video.duration_s,
        embedder=extraction.embedder,
        frames_analysed=extraction.frames_analysed,
        frames_decoded=extraction.frames_decoded,
        shots=extraction.shots,
        detector=extraction.detector,
        seconds=extraction.seconds,
        variants=tuple(variants),
    )


def _prepare_variant(rank: int, candidate: Candidate) -> PreparedVariant:
    height, width = candidate.image.shape[:2]
    still = EncodedImage(
        encode_jpeg(candidate.image, what=f"candidate {rank}"),
        width,
        height,
        (0, 0, width, height),
    )
    crops = {}
    for name, crop in crop_variant(candidate.image).items():
        crop_height, crop_width = crop.image.shape[:2]
        crops[name] = EncodedImage(
            encode_jpeg(crop.image, what=f"the {name} crop of candidate {rank}"),
            crop_width,
            crop_height,
            tuple(int(v) for v in crop.box),  # type: ignore[arg-type]
        )
    return PreparedVariant(
        time_s=candidate.time_s,
        score=candidate.score,
        scores=dict(candidate.scores),
        tags=dict(candidate.tags),
        embedding=candidate.embedding,
        explanation=candidate.explanation,
        still=still,
        crops=crops,
    )


class ScanCancelledError(Exception):
    """Raised inside a scan whose result is no longer wanted, at its next progress report."""


class ProgressRelay:
    """The progress callback of a scan that may start before its file's turn: reports go to
    :attr:`target` once it is set (none are kept before), and :meth:`cancel` stops the scan at
    its next report."""

    def __init__(self) -> None:
        self.target: ProgressCallback | None = None
        self._cancelled = False

    def __call__(self, done: int, total: int) -> None:
        if self._cancelled:
            raise ScanCancelledError
        target = self.target
        if target is not None:
            target(done, total)

    def cancel(self) -> None:
        """Stop the scan at its next progress report (the keyframe pass reports often)."""
        self._cancelled = True


class EarlyScan:
    """A file's scan started before an :class:`Ingestor` exists.

    ``artwork ingest`` spends about a second importing and opening the database layer before
    an :class:`Ingestor` can check the title; started first, the scan decodes meanwhile
    (decoding releases the GIL). Hand it to :meth:`Ingestor.ingest_all` (with its ``loader``
    to the :class:`Ingestor`): the embedder starts loading once the title is accepted (a
    refused title loads no model), and if the title is refused the scan is cancelled.

    Args:
        path: the first file of the batch.
        settings: the extraction settings.
        loader: loads the embedder the scan's early scoring uses.
    """

    def __init__(self, path: Path, settings: Settings, loader: EmbedderLoader) -> None:
        self.path = path
        self.loader = loader
        self.progress = ProgressRelay()
        self.scan: Future[ScannedVideo] = Future()

        def run() -> ScannedVideo:
            probe(path)  # first, and alone: a file that is no video fails before any model
            return scan_video(path, settings, progress=self.progress, embedder=loader.get)

        threading.Thread(
            target=run_into, args=(self.scan, run), name="artwork-scan-early", daemon=True
        ).start()

    def close(self, timeout: float = 60.0) -> None:
        """Cancel the scan if it still runs, then wait for it and the embedder's build to end:
        a process that exits while either is inside native code can abort."""
        self.progress.cancel()
        wait([self.scan], timeout)
        if self.scan.done() and self.scan.exception() is None:
            scoring = self.scan.result().early  # samples scored beside the scan, if any
            if scoring is not None:
                wait([scoring], timeout)
        self.loader.settle(timeout)


@dataclass(frozen=True, slots=True, eq=False)
class _Started:
    """A job of a batch whose scan has begun (or that failed before it could)."""

    job: IngestJob
    title: Title | None = None
    scan: Future[ScannedVideo] | None = None
    progress: ProgressRelay | None = None
    error: ArtworkError | None = None


def format_slug(name: str) -> str:
    """The file-name form of an artwork format: ``"16:9"`` gives ``"16x9"``."""
    return re.sub(r"[^A-Za-z0-9]+", "x", name)


class Ingestor:
    """Turns video files into catalogue titles.

    One embedder (and tagger) is built once and reused; it loads in a background thread
    (:class:`~artwork.scoring.loading.EmbedderLoader`) from the first ingest on, while that
    file is decoded, so nothing waits for the model. A batch (:meth:`ingest_all`) scans the
    next file while the current one is scored and stored.
    """

    def __init__(
        self,
        catalog: Catalog,
        media: MediaStore,
        settings: Settings,
        embedder_factory: Callable[[Settings], Embedder],
        *,
        loader: EmbedderLoader | None = None,
    ) -> None:
        self.catalog = catalog
        self.media = media
        self.settings = settings
        # An EarlyScan's loader, when one started before this ingestor existed.
        self._loader = loader or EmbedderLoader(embedder_factory, settings)
        self._tagger: Tagger | None = None
        self._tagger_lock = threading.Lock()

    def close(self, timeout: float = 60.0) -> None:
        """Wait for an embedder build under way to end (see ``EmbedderLoader.settle``)."""
        self._loader.settle(timeout)

    @property
    def embedder(self) -> Embedder:
        """The embedder, built (or waited for) on first use."""
        return self._loader.get()

    @property
    def tagger(self) -> Tagger:
        with self._tagger_lock:
            if self._tagger is None:
                from artwork.scoring.tags import create_tagger

                self._tagger = create_tagger(self.embedder, self.settings)
            return self._tagger

    def ingest(
        self,
        path: Path,
        *,
        title_id: str,
        name: str,
        genres: Sequence[str] = (),
        replace: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestResult:
        """Extract artwork variants from ``path`` and store them as title ``title_id``.

        Raises:
            InvalidInputError: a bad title id or name.
            VideoError: the file is missing, empty, not a video or undecodable.
            TitleExistsError: the title exists and ``replace`` is false.
            StorageError: the media folder or database failed (nothing is left half-written).
        """
        title = self.check(title_id=title_id, name=name, genres=genres, replace=replace)
        probe(path)  # a file that is no video fails here, before any model is loaded
        self._loader.start()
        scanned = scan_video(path, self.settings, progress=progress, embedder=self._loader.get)
        return self._finish(scanned, title, replace=replace, progress=progress)

    def ingest_all(
        self,
        jobs: Sequence[IngestJob],
        *,
        progress: Callable[[IngestJob], ProgressCallback | None] | None = None,
        early: EarlyScan | None = None,
    ) -> Iterator[IngestOutcome]:
        """Ingest several files; each succeeds or fails on its own.

        The files are pipelined: while one is scored, tagged, cropped and stored, the next is
        decoded and scanned in a background thread (decoding, OpenCV and ONNX Runtime release
        the GIL, so the two share the cores). At most two files' samples are held at once.

        Args:
            jobs: the files and their titles.
            progress: gives each job its progress callback (or none), when its turn comes; the
                scan of a file that runs ahead reports to it once the callback exists.
            early: the first job's scan, started before this ingestor existed (its path must
                be the first job's); cancelled if that job's title is refused.

        Yields:
            One outcome per job, in order; an :class:`~artwork.errors.ArtworkError` is
            reported in the outcome, anything else propagates.
        """
        if early is not None and (not jobs or early.path != jobs[0].path):
            raise ValueError("an early scan must be of the first job's file")

        def begin(index: int, pool: ThreadPoolExecutor) -> _Started:
            job = jobs[index]
            try:
                title = self.check(
                    title_id=job.title_id, name=job.name, genres=job.genres, replace=job.replace
                )
                if index == 0 and early is not None:
                    if not (early.scan.done() and early.scan.exception() is not None):
                        early.loader.start()  # not for a file already found to be no video
                    return _Started(job, title=title, scan=early.scan, progress=early.progress)
                probe(job.path)
            except ArtworkError as exc:
                if index == 0 and early is not None:
                    early.progress.cancel()
                return _Started(job, error=exc)
            self._loader.start()
            relay = ProgressRelay()
            scan = pool.submit(
                scan_video, job.path, self.settings, progress=relay, embedder=self._loader.get
            )
            return _Started(job, title=title, scan=scan, progress=relay)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="artwork-scan") as pool:
            upcoming = begin(0, pool) if jobs else None
            for index in range(len(jobs)):
                current = upcoming
                assert current is not None
                callback = progress(current.job) if progress is not None else None
                if current.progress is not None:
                    current.progress.target = callback
                upcoming = begin(index + 1, pool) if index + 1 < len(jobs) else None
                yield self._complete(current, callback)

    def _complete(self, started: _Started, progress: ProgressCallback | None) -> IngestOutcome:
        """Wait for a started job's scan, then finish and store it."""
        job = started.job
        if started.error is not None:
            return IngestOutcome(job, error=started.error)
        assert started.scan is not None and started.title is not None
        try:
            scanned = started.scan.result()
            # Another job of the batch may have taken the id since the scan began.
            title = self.check(
                title_id=job.title_id, name=job.name, genres=job.genres, replace=job.replace
            )
            result = self._finish(scanned, title, replace=job.replace, progress=progress)
        except ArtworkError as exc:
            return IngestOutcome(job, error=exc)
        return IngestOutcome(job, result=result)

    def _finish(
        self,
        scanned: ScannedVideo,
        title: Title,
        *,
        replace: bool,
        progress: ProgressCallback | None,
    ) -> IngestResult:
        extraction = finish_extraction(
            scanned,
            self.settings,
            self._loader.get,
            progress=progress,
            tagger=lambda: self.tagger,
        )
        return self.store(prepare_title(extraction), title, replace=replace)

    def check(
        self, *, title_id: str, name: str, genres: Sequence[str] = (), replace: bool = False
    ) -> Title:
        """The title to store, validated before any work is done.

        Raises:
            InvalidInputError: a bad title id or an empty name.
            TitleExistsError: the title exists and ``replace`` is false.
        """
        validate_title_id(title_id)
        if not name.strip():
            raise InvalidInputError("name must not be empty")
        clean_genres = tuple(dict.fromkeys(g.strip().lower() for g in genres if g.strip()))
        if not replace and self.catalog.has_title(title_id):
            raise TitleExistsError(
                f"title {title_id!r} already exists; pick another --title-id "
                "or pass --replace to re-extract it"
            )
        return Title(title_id, name.strip(), clean_genres)

    def store(
        self, prepared: PreparedTitle, title: Title, *, replace: bool = False
    ) -> IngestResult:
        """Write a prepared title's images and store it with its variants in one transaction.

        Args:
            prepared: from :func:`prepare_title`.
            title: from :meth:`check` (its duration is taken from ``prepared``).
            replace: swap out an existing title of the same id.

        Raises:
            TitleExistsError: the title exists and ``replace`` is false.
            StorageError: the media folder or database failed; nothing is left half-written.
        """
        title = Title(title.title_id, title.name, title.genres, prepared.duration_s)
        written: list[str] = []
        try:
            built = [
                self._write_variant(title.title_id, rank, variant, prepared.embedder, written)
                for rank, variant in enumerate(prepared.variants)
            ]
            replaced = self.catalog.add_title(title, built, replace=replace)
        except BaseException:
            for relative in written:
                self.media.delete(relative)
            raise
        for relative in replaced:
            self.media.delete(relative)
        return IngestResult(
            title=self.catalog.get_title(title.title_id),
            variants=tuple(built),
            embedder=prepared.embedder,
            frames_analysed=prepared.frames_analysed,
            seconds=prepared.seconds,
            shots=prepared.shots,
            frames_decoded=prepared.frames_decoded,
            detector=prepared.detector,
        )

    def _write_variant(
        self,
        title_id: str,
        rank: int,
        variant: PreparedVariant,
        embedder: str,
        written: list[str],
    ) -> Variant:
        variant_id = uuid.uuid4().hex[:16]
        relative = f"titles/{title_id}/{variant_id}.jpg"
        self.media.write(relative, variant.still.data)
        written.append(relative)
        crops = {}
        for name, crop in variant.crops.items():
            crop_path = f"titles/{title_id}/{variant_id}-{format_slug(name)}.jpg"
            self.media.write(crop_path, crop.data)
            written.append(crop_path)
            crops[name] = VariantCrop(name, crop_path, crop.box, crop.width, crop.height)
        threshold = self.settings.auto_approve_min_score
        approved = threshold is not None and variant.score >= threshold
        return Variant(
            variant_id=variant_id,
            title_id=title_id,
            rank=rank,
            frame_time_s=variant.time_s,
            score=variant.score,
            scores=dict(variant.scores),
            tags=dict(variant.tags),
            embedder=embedder,
            image_path=relative,
            width=variant.still.width,
            height=variant.still.height,
            status=VariantStatus.APPROVED if approved else VariantStatus.PROPOSED,
            explanation=variant.explanation,
            embedding=variant.embedding,
            crops=crops,
        )

"""Ingestion: a video file in, a title with its artwork variants in the catalogue out.

The extractor computes everything in memory first; only then are the variant images written
(atomically, one by one) and the title and variants stored in one transaction. If anything
fails, the images written so far are removed: the catalogue and media folder are left as they
were.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2

from artwork.candidates.extractor import extract
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.config import Settings
from artwork.domain import Candidate, Extraction, Title, Variant, VariantStatus
from artwork.errors import InvalidInputError, StorageError, TitleExistsError
from artwork.scoring.base import Embedder

TITLE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
JPEG_QUALITY = 90


@dataclass(frozen=True, slots=True)
class IngestResult:
    title: Title
    variants: tuple[Variant, ...]
    embedder: str
    frames_analysed: int
    seconds: float


def validate_title_id(title_id: str) -> str:
    """Raises: InvalidInputError naming the rule when ``title_id`` cannot be a URL/path part."""
    if not TITLE_ID_PATTERN.fullmatch(title_id):
        raise InvalidInputError(
            f"title id {title_id!r} is not allowed: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return title_id


class Ingestor:
    """Turns video files into catalogue titles; one embedder is loaded lazily and reused."""

    def __init__(
        self,
        catalog: Catalog,
        media: MediaStore,
        settings: Settings,
        embedder_factory: Callable[[Settings], Embedder],
    ) -> None:
        self.catalog = catalog
        self.media = media
        self.settings = settings
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory(self.settings)
        return self._embedder

    def ingest(
        self,
        path: Path,
        *,
        title_id: str,
        name: str,
        genres: Sequence[str] = (),
        replace: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestResult:
        """Extract artwork variants from ``path`` and store them as title ``title_id``.

        Raises:
            InvalidInputError: a bad title id or name.
            VideoError: the file is missing, empty, not a video or undecodable.
            TitleExistsError: the title exists and ``replace`` is false.
            StorageError: the media folder or database failed (nothing is left half-written).
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
        started = time.perf_counter()
        extraction = extract(path, self.settings, self.embedder, progress=progress)
        title = Title(title_id, name.strip(), clean_genres, extraction.video.duration_s)
        written: list[str] = []
        try:
            built = [
                self._write_variant(title_id, rank, candidate, extraction, written)
                for rank, candidate in enumerate(extraction.candidates)
            ]
            replaced = self.catalog.add_title(title, built, replace=replace)
        except BaseException:
            for relative in written:
                self.media.delete(relative)
            raise
        for relative in replaced:
            self.media.delete(relative)
        return IngestResult(
            title=self.catalog.get_title(title_id),
            variants=tuple(built),
            embedder=extraction.embedder,
            frames_analysed=extraction.frames_analysed,
            seconds=time.perf_counter() - started,
        )

    def _write_variant(
        self,
        title_id: str,
        rank: int,
        candidate: Candidate,
        extraction: Extraction,
        written: list[str],
    ) -> Variant:
        variant_id = uuid.uuid4().hex[:16]
        relative = f"titles/{title_id}/{variant_id}.jpg"
        bgr = cv2.cvtColor(candidate.image, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise StorageError(f"cannot encode the image of variant {rank} of {title_id!r}")
        self.media.write(relative, encoded.tobytes())
        written.append(relative)
        height, width = candidate.image.shape[:2]
        threshold = self.settings.auto_approve_min_score
        approved = threshold is not None and candidate.score >= threshold
        return Variant(
            variant_id=variant_id,
            title_id=title_id,
            rank=rank,
            frame_time_s=candidate.time_s,
            score=candidate.score,
            scores=dict(candidate.scores),
            tags=dict(candidate.tags),
            embedder=extraction.embedder,
            image_path=relative,
            width=width,
            height=height,
            status=VariantStatus.APPROVED if approved else VariantStatus.PROPOSED,
            explanation=candidate.explanation,
            embedding=candidate.embedding,
        )

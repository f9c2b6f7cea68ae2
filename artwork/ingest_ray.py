"""Spreading extraction over a Ray cluster: workers extract, the driver stores.

::

    driver: Ingestor.check every job ─▶ submit to a pool of Ray actors ─▶ as each finishes:
            Ingestor.store (media files + one DB transaction, in this process only)
    actor:  extract (shot detection, scoring, embedding) ─▶ prepare_title (crops, JPEG bytes)

Each actor loads the embedder and tagger once and extracts one title at a time; a title's
result travels back as a :class:`~artwork.ingest.PreparedTitle` (encoded images, a few hundred
kilobytes), never as decoded frames. Workers read the video files by path, so the files must be
reachable at the same path on every node (a shared or network file system, or one machine).
Errors raised on purpose in a worker (:class:`~artwork.errors.ArtworkError`) come back as the
same kind of error for that job alone; the other jobs go on.

Ray is imported here only when called: it is an optional dependency (``pip install
artwork[ray]``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artwork import errors
from artwork.config import Settings
from artwork.errors import ArtworkError, InvalidInputError
from artwork.ingest import IngestJob, Ingestor, IngestOutcome, PreparedTitle

logger = logging.getLogger(__name__)

RAY_HINT = "install it with `pip install 'artwork[ray]'`"


@dataclass(frozen=True, slots=True)
class _Failure:
    """An :class:`ArtworkError` raised in a worker, by value (exceptions travel badly)."""

    code: str
    message: str


class _Extractor:
    """Body of the Ray actor: one embedder and tagger, loaded on first use, reused."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: _Loaded | None = None

    def prepare(self, index: int, path: str) -> tuple[int, PreparedTitle | _Failure]:
        from artwork.candidates.extractor import extract
        from artwork.ingest import prepare_title
        from artwork.scoring.registry import create_embedder
        from artwork.scoring.tags import create_tagger

        try:
            if self._loaded is None:
                embedder = create_embedder(self.settings)
                self._loaded = _Loaded(embedder, create_tagger(embedder, self.settings))
            loaded = self._loaded
            extraction = extract(Path(path), self.settings, loaded.embedder, tagger=loaded.tagger)
            return index, prepare_title(extraction)
        except ArtworkError as exc:
            return index, _Failure(exc.code, exc.message)


@dataclass(frozen=True, slots=True)
class _Loaded:
    embedder: Any
    tagger: Any


def ingest_on_ray(
    ingestor: Ingestor,
    jobs: Sequence[IngestJob],
    *,
    address: str,
    workers: int | None = None,
    cpus_per_worker: float = 1.0,
    on_done: Callable[[IngestOutcome], None] | None = None,
) -> Iterator[IngestOutcome]:
    """Extract the jobs' videos on a Ray cluster and store each title here as it finishes.

    Args:
        ingestor: stores the titles (its catalogue and media folder are this process's).
        jobs: the files and their titles.
        address: the cluster: ``"auto"`` (the one this machine belongs to, from ``ray
            start``), ``"local"`` (start one in this process), or an address
            (``"ray://head:10001"``, ``"head:6379"``). If Ray is already initialised in this
            process, that instance is used whatever ``address`` says.
        workers: number of actors; default as many as the cluster has CPUs for (at most one
            per job).
        cpus_per_worker: CPUs each actor reserves (> 0).
        on_done: called with each outcome as it is stored.

    Yields:
        One outcome per job, in the order they finish (jobs refused by
        :meth:`Ingestor.check` first).

    Raises:
        InvalidInputError: Ray is not installed, or ``address`` is empty.
    """
    if not address:
        raise InvalidInputError("the Ray address must not be empty; pass 'auto', 'local' or one")
    if cpus_per_worker <= 0:
        raise ValueError(f"cpus_per_worker must be > 0, got {cpus_per_worker}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    try:
        import ray
        from ray.util import ActorPool
    except ImportError as exc:
        raise InvalidInputError(f"--ray needs Ray, which is not installed; {RAY_HINT}") from exc

    accepted: list[tuple[IngestJob, Any]] = []
    for job in jobs:
        try:
            title = ingestor.check(
                title_id=job.title_id, name=job.name, genres=job.genres, replace=job.replace
            )
        except ArtworkError as exc:
            yield _report(IngestOutcome(job, error=exc), on_done)
        else:
            accepted.append((job, title))
    if not accepted:
        return

    started_here = not ray.is_initialized()
    if started_here:
        try:
            if address == "local":
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot reach a Ray cluster at {address!r} ({exc}); start one with "
                "`ray start --head`, or pass --ray local to run one in this process"
            ) from exc
    try:
        capacity = int(ray.cluster_resources().get("CPU", 1) // cpus_per_worker)
        count = max(1, min(len(accepted), workers or capacity))
        worker_settings = ingestor.settings.model_copy(
            update={"torch_threads": max(1, int(cpus_per_worker))}
        )
        actor = ray.remote(num_cpus=cpus_per_worker)(_Extractor)
        pool = ActorPool([actor.remote(worker_settings) for _ in range(count)])
        logger.info("extracting %d titles on %d Ray workers", len(accepted), count)
        for i, (job, _title) in enumerate(accepted):
            pool.submit(lambda a, item: a.prepare.remote(*item), (i, os.path.abspath(job.path)))
        while pool.has_next():
            index, prepared = pool.get_next_unordered()
            job, title = accepted[index]
            if isinstance(prepared, _Failure):
                outcome = IngestOutcome(job, error=_error(prepared))
            else:
                try:
                    result = ingestor.store(prepared, title, replace=job.replace)
                except ArtworkError as exc:
                    outcome = IngestOutcome(job, error=exc)
                else:
                    outcome = IngestOutcome(job, result=result)
            yield _report(outcome, on_done)
    finally:
        if started_here:
            ray.shutdown()


def _report(
    outcome: IngestOutcome, on_done: Callable[[IngestOutcome], None] | None
) -> IngestOutcome:
    if on_done is not None:
        on_done(outcome)
    return outcome


def _error(failure: _Failure) -> ArtworkError:
    """The :class:`ArtworkError` subclass whose ``code`` a worker reported."""
    pending: list[type[ArtworkError]] = [errors.ArtworkError]
    while pending:
        kind = pending.pop()
        if kind.code == failure.code:
            return kind(failure.message)
        pending.extend(kind.__subclasses__())
    return ArtworkError(failure.message)

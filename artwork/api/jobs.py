"""Extraction jobs of uploaded videos, run by a small pool of worker threads.

How many run at once: ``ARTWORK_UPLOAD_WORKERS``, fewer when the machine's available memory
cannot hold that many extractions of ``ARTWORK_JOB_MEMORY_MB`` each (at least one). The
rest wait in the pool's queue. At start-up, jobs a dead process left unfinished are failed
and its leftover upload files deleted.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from artwork.api import metrics
from artwork.api.logs import REQUEST_ID
from artwork.api.multipart import remove_leftovers
from artwork.catalog.jobs import Job, JobStore, process_alive
from artwork.config import Settings
from artwork.domain import Title
from artwork.errors import ArtworkError
from artwork.ingest import Ingestor
from artwork.wiring import Services

logger = logging.getLogger(__name__)


def available_memory_mb() -> int | None:
    """``MemAvailable`` from ``/proc/meminfo``, or ``None`` where there is none."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def worker_count(settings: Settings, available_mb: int | None) -> int:
    """Jobs that may run at once: the configured number, capped by memory, at least one."""
    if available_mb is None:
        return settings.upload_workers
    return max(1, min(settings.upload_workers, available_mb // settings.job_memory_mb))


@dataclass(frozen=True, slots=True)
class UploadJob:
    """What one job extracts: the stored upload and the title it becomes."""

    path: Path
    title: Title
    replace: bool
    auto_approve: bool
    filename: str


class JobRunner:
    """Runs upload jobs on a bounded thread pool and records their state in ``store``."""

    def __init__(self, services: Services, store: JobStore, workers: int) -> None:
        self.services = services
        self.store = store
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="artwork-job")
        self._queued = 0
        self._lock = threading.Lock()
        metrics.set_queue_depth("upload_jobs", lambda: float(self._queued))

    @classmethod
    def start(cls, services: Services, store: JobStore) -> JobRunner:
        """Clean up after a crashed process, then start the pool."""
        settings = services.settings
        failed = store.fail_abandoned()
        removed = remove_leftovers(settings.home / "uploads", process_alive)
        if failed or removed:
            logger.warning("failed %d unfinished jobs, removed %d stale uploads", failed, removed)
        return cls(services, store, worker_count(settings, available_memory_mb()))

    def submit(self, job: Job, upload: UploadJob) -> None:
        with self._lock:
            self._queued += 1
        self._pool.submit(self._run, job, upload, REQUEST_ID.get())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, upload: UploadJob, request_id: str) -> None:
        token = REQUEST_ID.set(request_id)
        with self._lock:
            self._queued -= 1
        metrics.JOBS_RUNNING.inc()
        try:
            self.store.update(job.job_id, state="running", progress=0.0)
            last = [0]

            def progress(done: int, total: int) -> None:
                percent = int(100 * done / total) if total else 0
                if percent >= last[0] + 5:  # a write every 5 %, not every frame
                    last[0] = percent
                    self.store.update(job.job_id, progress=percent / 100)

            self._ingestor(upload.auto_approve).ingest(
                upload.path,
                title_id=upload.title.title_id,
                name=upload.title.name,
                genres=upload.title.genres,
                replace=upload.replace,
                progress=progress,
            )
        except ArtworkError as exc:
            # The temporary file's path means nothing to the caller: name their file.
            message = exc.message.replace(str(upload.path), upload.filename)
            self.store.update(job.job_id, state="failed", message=f"{exc.code}: {message}")
            metrics.record_job("failed")
        except Exception:
            logger.exception("job %s failed unexpectedly", job.job_id)
            self.store.update(
                job.job_id, state="failed", message="internal_error: the extraction failed"
            )
            metrics.record_job("failed")
        else:
            self.store.update(job.job_id, state="succeeded", progress=1.0, message="")
            metrics.record_job("succeeded")
        finally:
            upload.path.unlink(missing_ok=True)
            metrics.JOBS_RUNNING.dec()
            REQUEST_ID.reset(token)

    def _ingestor(self, auto_approve: bool) -> Ingestor:
        shared = self.services.ingestor
        if auto_approve:
            return shared
        # API uploads leave every variant 'proposed' unless the editor asks otherwise.
        settings = shared.settings.model_copy(update={"auto_approve_min_score": None})
        return Ingestor(shared.catalog, shared.media, settings, lambda _s: shared.embedder)

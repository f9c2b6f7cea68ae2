"""Wiring: one object holding the long-lived parts a process needs, built from Settings.

Both the API and the CLI build their parts here, so they can never disagree on where the
database, media or models live. A serving process holds one decision writer and one reward
writer (group commit, :mod:`artwork.bandit.writer`), one catalogue cache, the event-id signer,
and the bandit thread, which follows the model snapshots and, with
``ARTWORK_LEARNER=background``, runs the learner while this process holds the database's
learner lock. :meth:`Services.learner_status` reports on them for health checks and metrics.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.event_ids import EventIdSigner, load_or_create_secret
from artwork.bandit.log import DecisionLog
from artwork.bandit.writer import DecisionWriter, RewardWriter
from artwork.catalog.cache import CatalogCache
from artwork.catalog.database import create_database_engine
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog, write_impressions
from artwork.config import Settings
from artwork.errors import TitleNotFoundError
from artwork.homepage import HomepageService
from artwork.ingest import Ingestor
from artwork.scoring.registry import create_embedder

if TYPE_CHECKING:
    from artwork.bandit.background import BanditWorker
    from artwork.bandit.learner import Learner

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LearnerStatus:
    """The serving data path's health, for ``/readyz`` and ``/metrics``.

    ``learning``: this process runs the database's one learner now; ``worker_alive``: the
    bandit thread (snapshot polling, learning) runs; ``model_version``: the serving model;
    ``queue_depth`` / ``queue_capacity``: decisions and rows waiting to be written;
    ``writer_alive``: the decision writer thread runs (False before the first page);
    ``log_lag_ms_p99``: time from decision to commit, 99th percentile of recent batches;
    ``learner_restarts``: learners rebuilt after an unexpected error in this process.
    """

    learning: bool
    worker_alive: bool
    model_version: int
    queue_depth: int
    queue_capacity: int
    writer_alive: bool
    log_lag_ms_p99: float
    learner_restarts: int = 0


@dataclass
class Services:
    settings: Settings
    engine: Engine
    catalog: Catalog
    media: MediaStore
    _bandit: ArtworkBandit | None = field(default=None, repr=False)
    _homepage: HomepageService | None = field(default=None, repr=False)
    _ingestor: Ingestor | None = field(default=None, repr=False)
    _learner: Learner | None = field(default=None, repr=False)
    _worker: BanditWorker | None = field(default=None, repr=False)
    _bandit_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cache: CatalogCache | None = field(default=None, repr=False)
    _writer: DecisionWriter | None = field(default=None, repr=False)
    _reward_writer: RewardWriter | None = field(default=None, repr=False)
    _log: DecisionLog | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Open the database (creating its schema) and the media folder named by ``settings``.

        Raises:
            StorageError: the database or media folder cannot be opened.
        """
        engine = create_database_engine(settings.resolved_database_url)
        return cls(settings, engine, Catalog(engine), MediaStore(settings.resolved_media_dir))

    @property
    def bandit(self) -> ArtworkBandit:
        """The serving bandit; its first use starts the bandit thread (snapshot polling, and
        the learner when ``ARTWORK_LEARNER=background``), stopped by :meth:`close`. With ``process``
        (the default) the learner runs in a process of its own (``artwork serve`` starts it)."""
        with self._bandit_lock:
            if self._bandit is None:
                settings = self.settings
                signer = EventIdSigner(load_or_create_secret(settings.event_secret, settings.home))
                self._reward_writer = RewardWriter(
                    self.engine, self._writer_log(), before_retry=self.decision_writer.flush
                )
                bandit = ArtworkBandit(
                    self.engine,
                    settings,
                    title_duration=self._title_duration,
                    signer=signer,
                    writer=self.decision_writer,
                    reward_writer=self._reward_writer,
                )
                # Read-your-writes in this process: a decision looked up before the writer
                # has committed it is found after a flush.
                bandit.log.on_miss(self.decision_writer.flush)
                self._bandit = bandit
                self._start_bandit_worker(bandit)
            return self._bandit

    @property
    def cache(self) -> CatalogCache:
        """The process's catalogue cache (approved variants, titles, members' plays)."""
        with self._bandit_lock:
            if self._cache is None:
                self._cache = CatalogCache(self.catalog, poll_s=self.settings.catalog_poll_s)
            return self._cache

    @property
    def decision_writer(self) -> DecisionWriter:
        """The process's group-commit writer of decisions and homepage rows."""
        with self._bandit_lock:
            if self._writer is None:
                self._writer = DecisionWriter(
                    self.engine,
                    self._writer_log(),
                    write_impressions,
                    capacity=self.settings.decision_queue_size,
                    flush_s=self.settings.decision_flush_s,
                ).start()
            return self._writer

    def _writer_log(self) -> DecisionLog:
        """The log the writers write through (one per process: its feature-body cache)."""
        with self._bandit_lock:
            if self._log is None:
                self._log = DecisionLog(self.engine)
            return self._log

    def learner_status(self) -> LearnerStatus:
        """Health of the serving data path (cheap; no database query)."""
        worker = self._worker.status() if self._worker is not None else None
        writer = self._writer.status() if self._writer is not None else None
        bandit = self._bandit
        return LearnerStatus(
            learning=bool(worker and worker.learning),
            worker_alive=bool(worker and worker.alive),
            model_version=bandit.model_version if bandit is not None else 0,
            queue_depth=writer.queued if writer else 0,
            queue_capacity=self.settings.decision_queue_size,
            writer_alive=bool(writer and writer.alive),
            log_lag_ms_p99=writer.lag_ms_p99 if writer else 0.0,
            learner_restarts=worker.restarts if worker else 0,
        )

    @property
    def learner(self) -> Learner:
        """The process's one learner (the background thread's, when it runs one).

        Raises:
            ModelError: The newest snapshot cannot go on learning under these settings.
        """
        from artwork.bandit.learner import Learner

        with self._bandit_lock:
            if self._learner is None:
                self._learner = Learner(
                    self.engine, self.settings, on_snapshot=self._snapshot_saved
                )
            return self._learner

    def _start_bandit_worker(self, bandit: ArtworkBandit) -> None:
        from artwork.bandit.background import BanditWorker
        from artwork.bandit.learner_lock import learner_lock_for

        background = self.settings.learner == "background"
        if not background and self.settings.snapshot_poll_s <= 0:
            return
        self._worker = BanditWorker(
            bandit,
            None,
            poll_s=self.settings.snapshot_poll_s,
            learn_interval_s=self.settings.learn_interval_s,
            # Every process tries; the lock holder learns (one learner per database).
            lock=learner_lock_for(self.engine) if background else None,
            learner_factory=(lambda: self.learner) if background else None,
        )
        self._worker.start()

    def _snapshot_saved(self, _version: int) -> None:
        bandit = self._bandit
        if bandit is not None:
            bandit.refresh()

    def _title_duration(self, title_id: str) -> float | None:
        try:
            return self.cache.title(title_id).duration_s
        except TitleNotFoundError:
            return None

    @property
    def homepage(self) -> HomepageService:
        if self._homepage is None:
            self._homepage = HomepageService(
                self.catalog,
                self.bandit,
                settings=self.settings,
                cache=self.cache,
                writer=self.decision_writer,
            )
        return self._homepage

    @property
    def ingestor(self) -> Ingestor:
        if self._ingestor is None:
            self._ingestor = Ingestor(self.catalog, self.media, self.settings, create_embedder)
        return self._ingestor

    def close(self) -> None:
        """Write everything queued, stop the threads (saving the learner's last snapshot)."""
        if self._writer is not None:
            self._writer.close()
        if self._reward_writer is not None:
            self._reward_writer.close()
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.engine.dispose()

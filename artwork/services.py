"""Wiring: one object holding the long-lived parts a process needs, built from Settings.

Both the API and the CLI build their parts here, so they can never disagree on where the
database, media or models live.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from artwork.bandit.service import ArtworkBandit
from artwork.catalog.database import create_database_engine
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.config import Settings
from artwork.errors import ArtworkError, TitleNotFoundError
from artwork.ingest import Ingestor
from artwork.scoring.registry import create_embedder
from artwork.serving import HomepageService

if TYPE_CHECKING:
    from artwork.bandit.background import BanditWorker
    from artwork.bandit.learner import Learner

logger = logging.getLogger(__name__)


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
        the learner when ``ARTWORK_LEARNER=background``), stopped by :meth:`close`."""
        with self._bandit_lock:
            if self._bandit is None:
                self._bandit = ArtworkBandit(
                    self.engine, self.settings, title_duration=self._title_duration
                )
                self._start_bandit_worker(self._bandit)
            return self._bandit

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

        learner = None
        if self.settings.learner == "background":
            try:
                learner = self.learner
            except ArtworkError as exc:
                logger.error("the bandit will not learn in this process: %s", exc.message)
        if learner is None and self.settings.snapshot_poll_s <= 0:
            return
        self._worker = BanditWorker(
            bandit,
            learner,
            poll_s=self.settings.snapshot_poll_s,
            learn_interval_s=self.settings.learn_interval_s,
        )
        self._worker.start()

    def _snapshot_saved(self, _version: int) -> None:
        bandit = self._bandit
        if bandit is not None:
            bandit.refresh()

    def _title_duration(self, title_id: str) -> float | None:
        try:
            return self.catalog.get_title(title_id).duration_s
        except TitleNotFoundError:
            return None

    @property
    def homepage(self) -> HomepageService:
        if self._homepage is None:
            self._homepage = HomepageService(self.catalog, self.bandit, settings=self.settings)
        return self._homepage

    @property
    def ingestor(self) -> Ingestor:
        if self._ingestor is None:
            self._ingestor = Ingestor(self.catalog, self.media, self.settings, create_embedder)
        return self._ingestor

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.engine.dispose()

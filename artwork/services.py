"""Wiring: one object holding the long-lived parts a process needs, built from Settings.

Both the API and the CLI build their parts here, so they can never disagree on where the
database, media or models live.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from artwork.bandit.service import ArtworkBandit
from artwork.catalog.database import create_database_engine
from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.config import Settings
from artwork.ingest import Ingestor
from artwork.scoring.registry import create_embedder
from artwork.serving import HomepageService


@dataclass
class Services:
    settings: Settings
    engine: Engine
    catalog: Catalog
    media: MediaStore
    _bandit: ArtworkBandit | None = field(default=None, repr=False)
    _homepage: HomepageService | None = field(default=None, repr=False)
    _ingestor: Ingestor | None = field(default=None, repr=False)

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
        if self._bandit is None:
            self._bandit = ArtworkBandit(self.engine, self.settings)
        return self._bandit

    @property
    def homepage(self) -> HomepageService:
        if self._homepage is None:
            self._homepage = HomepageService(self.catalog, self.bandit)
        return self._homepage

    @property
    def ingestor(self) -> Ingestor:
        if self._ingestor is None:
            self._ingestor = Ingestor(self.catalog, self.media, self.settings, create_embedder)
        return self._ingestor

    def close(self) -> None:
        self.engine.dispose()

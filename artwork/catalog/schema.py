"""The relational schema shared by every store (SQLite by default, PostgreSQL for replicas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"datetimes must be timezone-aware, got {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

titles = Table(
    "titles",
    metadata,
    Column("title_id", String(128), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("genres", JSON, nullable=False),
    Column("duration_s", Float),
    Column("created_at", UTCDateTime, nullable=False),
)

variants = Table(
    "variants",
    metadata,
    Column("variant_id", String(64), primary_key=True),
    Column("title_id", String(128), ForeignKey("titles.title_id"), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("frame_time_s", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("embedder", String(128), nullable=False),
    Column("image_path", String(1024), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("embedding", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_variants_title", "title_id", "rank"),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), nullable=False),
    Column("title_id", String(128), ForeignKey("titles.title_id"), nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("duration_s", Float),
    Index("ix_interactions_user_time", "user_id", "timestamp"),
    Index("ix_interactions_title", "title_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("title_id", String(128), nullable=False),
    Column("context", JSON, nullable=False),
    Column("action_ids", JSON, nullable=False),
    Column("action_features", JSON, nullable=False),
    Column("probabilities", JSON, nullable=False),
    Column("chosen_index", Integer, nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("policy", JSON, nullable=False),
    Index("ix_decisions_user_title", "user_id", "title_id"),
)

rewards = Table(
    "rewards",
    metadata,
    Column("event_id", String(64), ForeignKey("decisions.event_id"), primary_key=True),
    Column("value", Float, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

bandit_models = Table(
    "bandit_models",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("events_learned", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

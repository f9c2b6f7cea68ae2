"""The relational schema shared by every store (SQLite by default, PostgreSQL for replicas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
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
    event,
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

variant_images = Table(
    "variant_images",
    metadata,
    # The lineage: the variant (one extracted frame) this image was cut from.
    Column("lineage_id", String(64), ForeignKey("variants.variant_id"), primary_key=True),
    Column("format", String(16), primary_key=True),
    Column("image_path", String(1024), nullable=False),
    Column("box", JSON, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
)
"""Each variant's crops, one per artwork format ("16:9", "2:3"); the full frame stays in
``variants.image_path``."""

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

homepage_impressions = Table(
    "homepage_impressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("impression_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("selector", String(32), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("row_id", String(256), nullable=False),
    Column("source", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("title_ids", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    Index("ix_homepage_impressions_time", "created_at"),
    Index("ix_homepage_impressions_user_time", "user_id", "created_at"),
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
    # A member's decisions within the consistency window, newest first: a range of this
    # index, however long the member's history (an index on user_id alone made every page
    # read all of it). Older databases are reindexed once (DecisionLog).
    Index("ix_decisions_user_time", "user_id", "created_at"),
    # No index on title_id: a page's ~150 decisions name ~150 titles, each entry a random
    # place in such an index (most of a page's insert cost); per-title figures are counted
    # in decision_counts instead.
    # The learner's cursor is a seq: SQLite must never hand out a seq twice (AUTOINCREMENT).
    sqlite_autoincrement=True,
)

rewards = Table(
    "rewards",
    metadata,
    # No foreign key: a reward is accepted against its signed event id and may be committed
    # before its decision, which is written off the request path (the learner joins them).
    Column("event_id", String(64), primary_key=True),
    Column("value", Float, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_rewards_received", "received_at"),
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

bandit_learner_state = Table(
    "bandit_learner_state",
    metadata,
    # Saved in the snapshot's transaction: what the model in that snapshot has learned.
    Column(
        "version",
        Integer,
        ForeignKey("bandit_models.version", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("cursor_seq", Integer, nullable=False),  # every decision up to here is learned
    Column("learned_ahead", JSON, nullable=False),  # seqs after the cursor already learned
)

# --- serving data path: shared feature bodies and change counters -------------------------
decision_features = Table(
    "decision_features",
    metadata,
    # A decision's context, actions and policy repeat across decisions (a page shares its
    # context, a title its actions, many decisions their probabilities): stored once under a
    # content hash, referenced by it (artwork.bandit.log describes the forms).
    Column("ref", String(24), primary_key=True),
    Column("body", Text, nullable=False),
)

decision_counts = Table(
    "decision_counts",
    metadata,
    # How often each variant was chosen, per title: kept in the transaction that logs the
    # decisions (artwork.bandit.decision_counts), for cold start and the editor's figures.
    Column("title_id", String(128), primary_key=True),
    # Any action id a logged decision holds (imported logs name their own): not bounded.
    Column("variant_id", Text, primary_key=True),
    Column("shown", BigInteger, nullable=False),
)

change_counters = Table(
    "change_counters",
    metadata,
    # Bumped in the transaction of every catalogue write ("catalog": titles and variants,
    # "interactions": plays); serving processes poll it and drop their cached copies.
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)

# Decisions and rewards are evidence (training data, off-policy evaluation): never edited.
_APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
    "BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
)
_APPEND_ONLY_POSTGRES = (
    "CREATE OR REPLACE FUNCTION artwork_append_only() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' are append-only'; END $$ "
    "LANGUAGE plpgsql; "
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION artwork_append_only()"
)
for _table in (decisions, rewards):
    event.listen(
        _table,
        "after_create",
        DDL(_APPEND_ONLY_SQLITE.format(table=_table.name)).execute_if(dialect="sqlite"),
    )
    event.listen(
        _table,
        "after_create",
        DDL(_APPEND_ONLY_POSTGRES.format(table=_table.name)).execute_if(dialect="postgresql"),
    )

# --- API keys and upload jobs (artwork.catalog.keys, artwork.catalog.jobs) ---------------------
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("scopes", JSON, nullable=False),
    # sha256 of the key's secret part: the key itself is shown once and never stored.
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title_id", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("progress", Float, nullable=False),
    Column("message", Text, nullable=False),
    Column("key_id", String(32), nullable=False),
    # host:pid of the process running it, so a restart fails only its own dead jobs
    Column("owner", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_jobs_state", "state"),
)

# --- Catalogue metadata beyond the titles table (artwork.catalog.titles_import) ---------------
title_metadata = Table(
    "title_metadata",
    metadata,
    Column("title_id", String(128), ForeignKey("titles.title_id"), primary_key=True),
    Column("year", Integer),
    Column("description", Text, nullable=False),
)

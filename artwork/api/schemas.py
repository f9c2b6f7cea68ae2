"""Request and response bodies, split by direction (``*In`` comes in, ``*Public`` goes out)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RewardIn(_In):
    event_id: str = Field(min_length=1, max_length=64, description="From an artwork response.")
    value: float = Field(allow_inf_nan=False, description="Reward; 1.0 for a play, 0 for none.")


class RewardPublic(BaseModel):
    event_id: str
    value: float
    learned: bool = Field(description="False when this event already had a reward (idempotent).")
    model_version: int


class ArtworkPublic(BaseModel):
    variant_id: str
    url: str
    event_id: str


class RowItemPublic(BaseModel):
    title_id: str
    name: str
    artwork: ArtworkPublic


class RowPublic(BaseModel):
    id: str
    title: str
    items: list[RowItemPublic]


class HomepagePublic(BaseModel):
    user_id: str
    rows: list[RowPublic]


class TitleArtworkPublic(BaseModel):
    title_id: str
    name: str
    artwork: ArtworkPublic


class VariantPublic(BaseModel):
    variant_id: str
    rank: int
    status: str
    frame_time_s: float
    score: float
    scores: dict[str, float]
    tags: dict[str, float]
    embedder: str
    width: int
    height: int
    url: str
    explanation: str


class TitlePublic(BaseModel):
    title_id: str
    name: str
    genres: list[str]
    duration_s: float | None
    created_at: datetime | None
    variants: list[VariantPublic]


class TitleSummaryPublic(BaseModel):
    title_id: str
    name: str
    genres: list[str]
    duration_s: float | None


class DecisionPublic(BaseModel):
    event_id: str
    created_at: datetime
    user_id: str
    title_id: str
    action_ids: list[str]
    probabilities: list[float]
    chosen_variant_id: str
    chosen_probability: float
    model_version: int
    policy: dict[str, str | float]
    reward: float | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, object]] | None = None


class ErrorPublic(BaseModel):
    error: ErrorDetail


class HealthPublic(BaseModel):
    status: str
    titles: int
    model_version: int

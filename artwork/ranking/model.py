"""The trained ranking model: a title index, every fitted ranker, and optionally a page model.

This is the unit ``artwork ranking train`` fits and saves (``artwork.ranking.artifacts``) and
the service serves from. ``RankingConfig`` holds every hyperparameter, read from ``Settings``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from artwork.config import Settings
from artwork.ranking.base import Ranker, RankingData, TitleIndex
from artwork.ranking.page_model import PageModel
from artwork.ranking.rankers import (
    RANKERS,
    EaseRanker,
    ItemSimilarityRanker,
    TopPicksRanker,
    TrendingRanker,
)


def _default(name: str) -> Any:
    """The default of setting ``name``: ``Settings`` is the one source of ranking defaults."""
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class RankingConfig:
    """Hyperparameters of the rankers and the page (see the ``ARTWORK_*`` settings, whose
    defaults these are)."""

    selector: str = _default("row_selector")
    page_rows: int = _default("page_rows")
    row_size: int = _default("row_size")
    first_screen_rows: int = _default("first_screen_rows")
    first_screen_titles: int = _default("first_screen_titles")
    trending_half_life_h: float = _default("trending_half_life_h")
    ease_l2: float = _default("ease_l2")
    ease_max_titles: int = _default("ease_max_titles")
    similar_titles: int = _default("similar_titles")
    similarity_content_weight: float = _default("similarity_content_weight")
    because_you_watched_rows: int = _default("because_you_watched_rows")
    top_picks_half_life_d: float = _default("top_picks_half_life_d")
    top_picks_candidates: int = _default("top_picks_candidates")
    rankers: tuple[str, ...] = field(default_factory=lambda: tuple(RANKERS))

    def __post_init__(self) -> None:
        for name in ("page_rows", "row_size", "first_screen_rows", "first_screen_titles"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        unknown = sorted(set(self.rankers) - set(RANKERS))
        if unknown:
            raise ValueError(f"rankers names unknown rankers {unknown}; known: {sorted(RANKERS)}")

    @classmethod
    def from_settings(cls, settings: Settings) -> RankingConfig:
        """The ranking part of ``settings``."""
        return cls(
            selector=settings.row_selector,
            page_rows=settings.page_rows,
            row_size=settings.row_size,
            first_screen_rows=settings.first_screen_rows,
            first_screen_titles=settings.first_screen_titles,
            trending_half_life_h=settings.trending_half_life_h,
            ease_l2=settings.ease_l2,
            ease_max_titles=settings.ease_max_titles,
            similar_titles=settings.similar_titles,
            similarity_content_weight=settings.similarity_content_weight,
            because_you_watched_rows=settings.because_you_watched_rows,
            top_picks_half_life_d=settings.top_picks_half_life_d,
            top_picks_candidates=settings.top_picks_candidates,
        )

    def to_dict(self) -> dict[str, Any]:
        """As plain JSON-able values."""
        values = asdict(self)
        values["rankers"] = list(self.rankers)
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RankingConfig:
        """Inverse of ``to_dict``; unknown keys are ignored."""
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if "rankers" in known:
            known["rankers"] = tuple(known["rankers"])
        return cls(**known)


def make_ranker(name: str, config: RankingConfig) -> Ranker:
    """An unfitted ranker of the registry, configured by ``config``.

    Raises:
        ValueError: no ranker is called ``name``.
    """
    if name not in RANKERS:
        raise ValueError(f"no ranker named {name!r}; known: {sorted(RANKERS)}")
    if name == TrendingRanker.name:
        return TrendingRanker(config.trending_half_life_h)
    if name == EaseRanker.name:
        return EaseRanker(config.ease_l2, config.ease_max_titles)
    if name == ItemSimilarityRanker.name:
        return ItemSimilarityRanker(config.similar_titles, config.similarity_content_weight)
    if name == TopPicksRanker.name:
        return TopPicksRanker(
            config.ease_l2,
            config.ease_max_titles,
            config.top_picks_half_life_d,
            config.top_picks_candidates,
        )
    return RANKERS[name]()


@dataclass(eq=False)
class RankingModel:
    """Everything a page needs, fitted.

    Attributes:
        index: the title index every ranker is aligned to.
        rankers: fitted rankers by name.
        config: the hyperparameters they were fitted with.
        trained_at: the ``now`` of the data they were fitted on.
        page_model: the learned page model, if one was fitted.
        fit_seconds: seconds each ranker took to fit.
    """

    index: TitleIndex
    rankers: dict[str, Ranker]
    config: RankingConfig
    trained_at: datetime
    page_model: PageModel | None = None
    fit_seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        data: RankingData,
        config: RankingConfig | None = None,
        page_model: PageModel | None = None,
        rankers: Sequence[str] | None = None,
    ) -> RankingModel:
        """Fit every ranker named in ``config`` (or ``rankers``) on ``data``."""
        config = config or RankingConfig()
        fitted: dict[str, Ranker] = {}
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        index = data.index
        _ = data.log  # columns built once, outside the rankers' timings
        seconds["prepare"] = time.perf_counter() - start
        for name in rankers if rankers is not None else config.rankers:
            ranker = make_ranker(name, config)
            start = time.perf_counter()
            ranker.fit(data)
            seconds[name] = time.perf_counter() - start
            fitted[name] = ranker
        return cls(index, fitted, config, data.now, page_model, seconds)

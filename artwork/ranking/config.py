"""The ranking slice of the settings: every hyperparameter of the rankers and the page.

``RankingConfig`` is what a model is fitted with and saved beside; its defaults are the
``Settings`` defaults (``ARTWORK_PAGE_ROWS``, ``ARTWORK_EASE_L2``, ...), read from there, so
each default is written once, in :mod:`artwork.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from artwork.config import Settings
from artwork.ranking.rankers import RANKER_CLASSES

RANKER_NAMES: tuple[str, ...] = tuple(cls.name for cls in RANKER_CLASSES)
"""Every ranker, fitted unless a config names fewer."""


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
    rankers: tuple[str, ...] = field(default_factory=lambda: RANKER_NAMES)

    def __post_init__(self) -> None:
        for name in ("page_rows", "row_size", "first_screen_rows", "first_screen_titles"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        unknown = sorted(set(self.rankers) - set(RANKER_NAMES))
        if unknown:
            raise ValueError(
                f"rankers names unknown rankers {unknown}; known: {sorted(RANKER_NAMES)}"
            )

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

"""The trained ranking model: a title index, every fitted ranker, and optionally a page model.

This is the unit ``artwork ranking train`` fits and saves (``artwork.ranking.artifacts``) and
the service serves from, with the hyperparameters (``RankingConfig``) it was fitted with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from artwork.ranking.base import Ranker
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.index import TitleIndex
from artwork.ranking.page_model import PageModel
from artwork.ranking.registry import make_ranker


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

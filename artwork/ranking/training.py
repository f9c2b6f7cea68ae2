"""Training from the catalogue: the snapshot rankers learn from, the page model's examples,
and ``train``, which fits both and saves a new artifact version (``artwork ranking train``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from artwork.catalog.repository import Catalog
from artwork.config import Settings
from artwork.ranking.artifacts import ArtifactStore, ranking_dir
from artwork.ranking.config import RankingConfig
from artwork.ranking.content import title_vectors
from artwork.ranking.data import RankingData
from artwork.ranking.model import RankingModel
from artwork.ranking.page_model import PageModel, examples_from_impressions

#: Fewest logged rows, and fewest rows played from, to fit a page model on.
MIN_PAGE_EXAMPLES = 200
MIN_PAGE_POSITIVES = 10


def catalog_snapshot(catalog: Catalog, now: datetime | None = None) -> RankingData:
    """Every title, play and content vector in the catalogue, as of ``now`` (default: now)."""
    titles = catalog.list_titles()
    return RankingData(
        titles={t.title_id: t for t in titles},
        interactions=catalog.interactions(),
        now=now or datetime.now(UTC),
        content=title_vectors(catalog.variant_embeddings()),
    )


@dataclass(frozen=True)
class TrainingReport:
    """What ``train`` did."""

    version: int
    path: Path
    titles: int
    members: int
    interactions: int
    content_titles: int
    page_model_examples: int
    page_model_positives: int
    seconds: float
    fit_seconds: dict[str, float]


def fit_page_model(catalog: Catalog, data: RankingData) -> PageModel | None:
    """A page model from the catalogue's logged homepages, or None when there are too few
    (fewer than ``MIN_PAGE_EXAMPLES`` rows or ``MIN_PAGE_POSITIVES`` rows played from)."""
    impressions = catalog.impressions()
    if len(impressions) < MIN_PAGE_EXAMPLES:
        return None
    features, labels = examples_from_impressions(impressions, data.log)
    positives = int(labels.sum())
    if positives < MIN_PAGE_POSITIVES or positives == len(labels):
        return None
    return PageModel.fit(features, labels)


def train(
    catalog: Catalog,
    settings: Settings,
    *,
    now: datetime | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> TrainingReport:
    """Fit every ranker (and the page model, given enough logged homepages) on the catalogue
    and save them as a new artifact version under ``ranking_dir(settings)``.

    Raises:
        StorageError: the artifact cannot be written.
    """
    start = time.perf_counter()
    data = catalog_snapshot(catalog, now)
    log(f"snapshot: {len(data.titles)} titles, {len(data.log)} plays")
    model = RankingModel.fit(data, RankingConfig.from_settings(settings))
    log("rankers: " + ", ".join(f"{k} {v:.2f}s" for k, v in model.fit_seconds.items()))
    model.page_model = fit_page_model(catalog, data)
    page = model.page_model
    log(
        "page model: "
        + (
            "none (too few logged homepages)"
            if page is None
            else f"{page.examples} rows, {page.positives} played from"
        )
    )
    members = len(np.unique(data.log.user)) if len(data.log) else 0
    info = ArtifactStore(ranking_dir(settings)).save(
        model,
        extra={
            "interactions": len(data.log),
            "members": members,
            "train_seconds": round(time.perf_counter() - start, 3),
        },
    )
    return TrainingReport(
        version=info.version,
        path=info.path,
        titles=len(data.titles),
        members=members,
        interactions=len(data.log),
        content_titles=int(data.index.content.any(axis=1).sum()),
        page_model_examples=0 if page is None else page.examples,
        page_model_positives=0 if page is None else page.positives,
        seconds=time.perf_counter() - start,
        fit_seconds=model.fit_seconds,
    )

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from artwork.bench.catalogue import simulate_catalogue
from artwork.bench.pages import simulate_impressions
from artwork.config import Settings
from artwork.domain import Interaction
from artwork.ranking.artifacts import ArtifactStore, ranking_dir
from artwork.ranking.config import RankingConfig
from artwork.ranking.page import PageBuilder
from artwork.ranking.training import MIN_PAGE_EXAMPLES, catalog_snapshot, train
from artwork.testing.catalog import seed_title
from artwork.wiring import Services


def _seed(services: Services) -> None:
    for i, genre in enumerate(("drama", "drama", "comedy", "sci-fi")):
        seed_title(services.catalog, services.media, f"t{i}", genres=(genre,), variants=2, seed=i)
    now = datetime.now(UTC)
    services.catalog.add_interactions(
        [
            Interaction(f"u{u}", f"t{t}", now - timedelta(hours=u + t), 60.0, 60.0)
            for u in range(6)
            for t in range(3)
        ]
    )


def test_snapshot_carries_titles_plays_and_content(services: Services) -> None:
    _seed(services)
    data = catalog_snapshot(services.catalog)
    assert len(data.titles) == 4 and len(data.log) == 18
    assert set(data.content) == {"t0", "t1", "t2", "t3"}
    assert data.index.has_content.all()


def test_train_saves_a_version_without_a_page_model_when_nothing_was_logged(
    services: Services, settings: Settings
) -> None:
    _seed(services)
    lines: list[str] = []
    report = train(services.catalog, settings, log=lines.append)
    assert report.version == 1 and report.path.parent == ranking_dir(settings)
    assert (report.titles, report.members, report.interactions) == (4, 6, 18)
    assert report.content_titles == 4 and report.page_model_examples == 0
    assert any("page model: none" in line for line in lines)
    model, info = ArtifactStore(ranking_dir(settings)).load()
    assert info.manifest["interactions"] == 18 and model.page_model is None
    assert train(services.catalog, settings).version == 2


def test_train_fits_the_page_model_on_logged_homepages(
    services: Services, settings: Settings
) -> None:
    # A simulated world's titles and plays go into the catalogue; its homepages too.
    world = simulate_catalogue(titles=60, users=120, interactions=1500, genres=6, seed=5)
    for title in world.titles:
        services.catalog.add_title(title, [])
    services.catalog.add_interactions(list(world.log))
    builder = PageBuilder(config=RankingConfig(page_rows=10, row_size=8)).fit(world.ranking_data())
    pages = simulate_impressions(world, builder, pages=60, seed=1)
    assert len(pages.impressions) >= MIN_PAGE_EXAMPLES
    services.catalog.log_impressions(pages.impressions)
    services.catalog.add_interactions(pages.plays)
    report = train(services.catalog, settings, now=world.now + timedelta(days=1))
    assert report.page_model_examples == len(pages.impressions)
    assert report.page_model_positives == len(pages.plays) > 0
    model, _ = ArtifactStore(ranking_dir(settings)).load()
    assert model.page_model is not None and model.page_model.examples == len(pages.impressions)

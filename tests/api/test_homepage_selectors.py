"""Per-request row selectors, impression logging, and serving from trained ranking artifacts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from artwork.bandit.profile import member_profile
from artwork.config import Settings
from artwork.domain import Interaction
from artwork.homepage import HomepageService, make_context
from artwork.ranking.artifacts import ArtifactStore, ranking_dir
from artwork.ranking.model import RankingModel
from artwork.ranking.page import PageBuilder
from artwork.ranking.registry import ROW_SELECTORS
from artwork.ranking.training import catalog_snapshot, train
from artwork.testing.catalog import seed_title
from artwork.testing.keys import api_client
from artwork.testing.waiting import wait_for
from artwork.wiring import Services


@pytest.fixture
def ranked_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"ranking_reload_s": 0.0, "first_screen_rows": 3, "first_screen_titles": 2}
    )


@pytest.fixture
def ranked(seeded: Services, ranked_settings: Settings) -> Services:
    """The API's seeded catalogue plus two titles, served by a settings-aware service."""
    seed_title(seeded.catalog, seeded.media, "moon", genres=("sci-fi",), variants=2, seed=4)
    seed_title(seeded.catalog, seeded.media, "farce", genres=("comedy",), variants=2, seed=5)
    seeded._homepage = HomepageService(seeded.catalog, seeded.bandit, settings=ranked_settings)
    return seeded


@pytest.fixture
def ranked_client(ranked: Services) -> Iterator[TestClient]:
    with api_client(ranked) as test_client:
        yield test_client


def _rows(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/homepage", params={"user_id": "u1", **params})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


@pytest.mark.parametrize("selector", sorted(ROW_SELECTORS))
def test_every_selector_serves_a_page(ranked_client: TestClient, selector: str) -> None:
    rows = _rows(ranked_client, selector=selector)
    assert rows and rows[0]["id"] == "continue-watching"
    assert all(row["items"] for row in rows)


def test_stagewise_shows_no_title_twice_on_the_first_screen(ranked_client: TestClient) -> None:
    plain = _rows(ranked_client, selector="row_ranking")
    first = [i["title_id"] for r in plain[:3] for i in r["items"][:2]]
    assert len(first) > len(set(first))  # row-ranking repeats on this catalogue
    staged = _rows(ranked_client, selector="stagewise")
    first = [i["title_id"] for r in staged[:3] for i in r["items"][:2]]
    assert len(first) == len(set(first))


def test_unknown_selector_is_a_422(ranked_client: TestClient) -> None:
    response = ranked_client.get("/v1/homepage", params={"user_id": "u1", "selector": "best"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_configured_selector_is_the_default(
    ranked: Services, ranked_settings: Settings
) -> None:
    staged = ranked_settings.model_copy(update={"row_selector": "stagewise"})
    service = HomepageService(ranked.catalog, ranked.bandit, settings=staged)
    service.page(make_context("u1"))
    assert {i.selector for i in ranked.catalog.impressions()} == {"stagewise"}


def test_each_page_is_logged_with_its_features(ranked: Services, ranked_client: TestClient) -> None:
    rows = _rows(ranked_client, selector="stagewise")
    logged = ranked.catalog.impressions()
    assert len(logged) == len(rows) and len({i.impression_id for i in logged}) == 1
    assert [i.row_id for i in sorted(logged, key=lambda i: i.position)] == [r["id"] for r in rows]
    first = min(logged, key=lambda i: i.position)
    assert first.selector == "stagewise" and first.user_id == "u1"
    assert first.model_version.startswith("fitted:")  # no artifact yet
    assert first.features["position"] == 1.0 and "novelty" in first.features
    assert list(first.title_ids) == [i["title_id"] for i in rows[0]["items"]]


def test_service_serves_the_newest_artifact(ranked: Services, ranked_settings: Settings) -> None:
    service = ranked.homepage
    service.page(make_context("u1"))
    assert service.model_version.startswith("fitted:")
    train(ranked.catalog, ranked_settings)
    service.page(make_context("u1"))
    assert service.model_version == "artifact:1"
    train(ranked.catalog, ranked_settings)
    assert service.refresh(wait=True) == 2
    assert service.model_version == "artifact:2"


class _GatedStore(ArtifactStore):
    """Loads version 1 at once; later versions wait until ``gate`` is set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.started = threading.Event()

    def load(self, version: int | None = None) -> tuple[RankingModel, Any]:
        if version is not None and version > 1:
            self.started.set()
            assert self.gate.wait(10)
        return super().load(version)


def test_a_request_never_waits_for_a_new_version(
    ranked: Services, ranked_settings: Settings
) -> None:
    train(ranked.catalog, ranked_settings)
    store = _GatedStore(ranking_dir(ranked_settings))
    service = HomepageService(
        ranked.catalog, ranked.bandit, settings=ranked_settings, artifacts=store
    )
    service.page(make_context("u1"))
    assert service.model_version == "artifact:1"
    train(ranked.catalog, ranked_settings)
    page = service.page(make_context("u1"))  # starts loading version 2 in the background
    assert store.started.wait(5)
    assert page.rows and service.model_version == "artifact:1"
    service.page(make_context("u2"))  # still served while version 2 loads
    store.gate.set()
    deadline = time.monotonic() + 10
    while service.model_version != "artifact:2" and time.monotonic() < deadline:
        time.sleep(0.01)
        service.page(make_context("u1"))
    assert service.model_version == "artifact:2"


def test_a_broken_artifact_is_skipped(ranked: Services, ranked_settings: Settings) -> None:
    model = RankingModel.fit(catalog_snapshot(ranked.catalog))
    info = ArtifactStore(ranking_dir(ranked_settings)).save(model)
    (info.path / "arrays.npz").write_bytes(b"garbage")
    service = HomepageService(ranked.catalog, ranked.bandit, settings=ranked_settings)
    page = service.page(make_context("u1"))  # falls back to fitting on the catalogue
    assert page.rows and service.model_version.startswith("fitted:")


def test_a_members_profile_is_kept_until_their_own_plays_change(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plays arrive all the time; another member's play leaves this member's profile (and
    cached plays) as they were, their own play makes a new one."""
    made: list[str] = []
    original = member_profile

    def counted(plays: Any, *args: Any) -> Any:
        made.append(plays[0].user_id)
        return original(plays, *args)

    monkeypatch.setattr("artwork.homepage.member_profile", counted)
    service = seeded.homepage
    service.page(make_context("u1"))
    service.page(make_context("u1"))
    assert made == ["u1"]
    now = datetime.now(UTC)
    seeded.catalog.add_interactions([Interaction("u2", "cats", now, 10.0, 60.0)])
    service.page(make_context("u1"))
    assert made == ["u1"]
    seeded.catalog.add_interactions([Interaction("u1", "duel", now, 10.0, 60.0)])
    page = service.page(make_context("u1"))
    assert made == ["u1", "u1"]
    assert page.rows


def test_without_an_artifact_new_plays_are_fitted_beside_the_pages(
    seeded: Services, ranked_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fitted ranking (no trained artifact): plays, which arrive all the time, are fitted
    in a thread of its own while the last fit serves; a new title on the next page."""
    fitted_in: list[str] = []
    original = PageBuilder.fit

    def recorded(self: PageBuilder, data: Any) -> PageBuilder:
        fitted_in.append(threading.current_thread().name)
        return original(self, data)

    monkeypatch.setattr(PageBuilder, "fit", recorded)
    service = HomepageService(
        seeded.catalog, seeded.bandit, settings=ranked_settings, cache=seeded.cache
    )
    service.page(make_context("u1"))
    assert (fitted_in, service.model_version) == ([threading.current_thread().name], "fitted:3:3")

    seeded.catalog.add_interactions([Interaction("u2", "duel", datetime.now(UTC), 5.0, 60.0)])
    service.page(make_context("u1"))  # served by the last fit
    assert wait_for(lambda: service.model_version == "fitted:3:4")
    assert fitted_in[1:] == ["artwork-refit"]

    seed_title(seeded.catalog, seeded.media, "moon", genres=("sci-fi",), variants=2, seed=4)
    page = service.page(make_context("u9"))
    assert service.model_version == "fitted:4:4"
    assert fitted_in[2:] == [threading.current_thread().name]
    assert "moon" in {c.title.title_id for r in page.rows for c in r.items}

from __future__ import annotations

import pytest

from artwork.domain import Homepage, Title
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.interactions import Member
from artwork.ranking.metrics import first_screen
from artwork.ranking.page import PageBuilder
from artwork.ranking.registry import ROW_SELECTORS
from artwork.ranking.selectors import StagewiseSelector

from .conftest import NOW, play
from .test_rankers import PLAYS, TITLES


@pytest.fixture
def data() -> RankingData:
    return RankingData(TITLES, PLAYS, NOW)


def test_page_puts_continue_watching_first_and_genres_by_affinity(data: RankingData) -> None:
    page = PageBuilder().fit(data).build("u1")
    ids = [row.row_id for row in page.rows]
    assert ids[:3] == ["continue-watching", "top-picks", "popular"]
    # u1 watched drama twice and comedy twice, sci-fi never.
    assert ids.index("genre:sci-fi") > ids.index("genre:drama")
    assert all(row.items for row in page.rows)


def test_cold_start_member_gets_a_page_without_continue_watching(data: RankingData) -> None:
    page = PageBuilder().fit(data).build("new-member")
    ids = [row.row_id for row in page.rows]
    assert ids[0] == "popular"
    assert "continue-watching" not in ids and "top-picks" not in ids
    assert {"genre:drama", "genre:comedy", "genre:sci-fi"} <= set(ids)


def test_limits_are_checked_and_applied(data: RankingData) -> None:
    page = PageBuilder(row_size=1, max_rows=2).fit(data).build("u1")
    assert len(page.rows) == 2 and all(len(r.items) == 1 for r in page.rows)
    with pytest.raises(ValueError, match="row_size"):
        PageBuilder(row_size=0)
    with pytest.raises(ValueError, match="max_rows"):
        PageBuilder(max_rows=0)
    with pytest.raises(RuntimeError, match="fit"):
        PageBuilder().build("u1")
    sized = PageBuilder(config=RankingConfig(page_rows=3, row_size=2)).fit(data).build("u1")
    assert len(sized.rows) == 3 and max(len(r.items) for r in sized.rows) == 2


def test_selector_by_name_per_page_and_by_default(data: RankingData) -> None:
    builder = PageBuilder(selector="stagewise").fit(data)
    assert builder.selector.name == "stagewise"
    for name in ROW_SELECTORS:
        assert builder.plan("u1", name).selector == name
    with pytest.raises(ValueError, match="selector must be one of"):
        builder.build("u1", "nope")
    with pytest.raises(ValueError, match="selector must be one of"):
        PageBuilder(selector="nope")
    assert isinstance(PageBuilder(selector=StagewiseSelector()).selector, StagewiseSelector)


def test_personal_rows_for_a_member_with_history(taste_data: RankingData) -> None:
    page = PageBuilder().fit(taste_data).build("x0")
    rows = {row.row_id: [i.title_id for i in row.items] for row in page.rows}
    assert rows["top-picks"][:2] in (["space-2", "space-3"], ["space-3", "space-2"])
    assert "space-1" not in rows["top-picks"]  # already watched
    # A title nobody has watched yet surfaces through content similarity.
    assert "new-space" in rows["because:space-1"]
    headings = [row.heading for row in page.rows]
    assert "Because you watched Space One" in headings


def test_a_new_title_surfaces_in_trending() -> None:
    titles = {
        t.title_id: t
        for t in (
            Title("classic", "Classic", ("drama",), 100.0),
            Title("premiere", "Premiere", ("drama",), 100.0),
        )
    }
    plays = [play(f"u{i}", "classic", 100, 24 * 20) for i in range(30)]
    plays += [play(f"n{i}", "premiere", 100, 3) for i in range(3)]
    page = PageBuilder().fit(RankingData(titles, plays, NOW)).build("someone-new")
    rows = {row.row_id: [i.title_id for i in row.items] for row in page.rows}
    assert rows["trending"][0] == "premiere"
    assert rows["popular"][0] == "classic"


def _first_screen_ok(page: Homepage, builder: PageBuilder) -> tuple[int, int]:
    config = builder.config
    assert builder.model is not None
    screen = first_screen(
        page, builder.model.index, config.first_screen_rows, config.first_screen_titles
    )
    return screen.distinct_titles, screen.slots


def test_cold_start_page_is_full_diverse_and_without_repeats(world_builder: PageBuilder) -> None:
    page = world_builder.build(Member.cold("brand-new"), "stagewise")
    config = world_builder.config
    assert len(page.rows) == config.page_rows
    distinct, slots = _first_screen_ok(page, world_builder)
    assert distinct == slots == config.first_screen_rows * config.first_screen_titles
    sources = {row.source for row in page.rows}
    assert {"popularity", "trending", "genre"} <= sources
    assert not {"personalized", "because_you_watched", "continue_watching"} & sources
    assert world_builder.model is not None
    screen = first_screen(
        page, world_builder.model.index, config.first_screen_rows, config.first_screen_titles
    )
    assert screen.genres >= 4


def test_every_selector_fills_a_page_for_members_with_history(world, world_builder) -> None:  # type: ignore[no-untyped-def]
    data = world_builder.data
    members = [data.member(u) for u in world.log.user_ids[:30]]
    for name in ROW_SELECTORS:
        for member in members:
            page = world_builder.build(member, name)
            assert 0 < len(page.rows) <= world_builder.max_rows
            assert all(0 < len(r.items) <= world_builder.row_size for r in page.rows)
            if name == "stagewise":
                distinct, slots = _first_screen_ok(page, world_builder)
                assert distinct == slots


def test_top_picks_row_comes_from_the_top_picks_ranker_when_there_is_one(
    world_builder,  # type: ignore[no-untyped-def]
) -> None:
    from artwork.ranking.model import RankingModel

    model = world_builder.model
    assert "top_picks" in model.rankers
    data = world_builder.data
    member = data.member(data.log.user_ids[int(data.log.user[-1])])
    row = next(r for r in world_builder.build(member).rows if r.row_id == "top-picks")
    expected = model.rankers["top_picks"].rank(member, len(row.items), exclude_seen=True)
    assert [i.title_id for i in row.items] == [s.title_id for s in expected]
    # A model without it (an older artifact) serves the row from EASE.
    plain = RankingModel.fit(data, world_builder.config, rankers=["personalized", "popularity"])
    older = PageBuilder(config=world_builder.config).use(plain)
    row = next(r for r in older.build(member).rows if r.row_id == "top-picks")
    expected = plain.rankers["personalized"].rank(member, len(row.items), exclude_seen=True)
    assert [i.title_id for i in row.items] == [s.title_id for s in expected]

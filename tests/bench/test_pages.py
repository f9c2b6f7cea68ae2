from __future__ import annotations

import numpy as np

from artwork.bench.catalogue import simulate_catalogue
from artwork.bench.pages import expected_play, play_probabilities, simulate_impressions
from artwork.ranking.config import RankingConfig
from artwork.ranking.page import PageBuilder


def test_simulated_homepages_reward_appealing_rows() -> None:
    world = simulate_catalogue(titles=400, users=800, interactions=12_000, genres=10, seed=3)
    world_builder = PageBuilder(config=RankingConfig(page_rows=12, row_size=10))
    world_builder.fit(world.ranking_data())
    pages = simulate_impressions(world, world_builder, pages=40, seed=2)
    assert len(pages.impressions) == len(pages.labels) == len(pages.features)
    assert pages.labels.sum() == len(pages.plays) > 0
    assert len({i.impression_id for i in pages.impressions}) == 40
    seen = np.zeros(len(world.titles), dtype=bool)
    ranked = np.argsort(-world.appeal(0, np.arange(len(world.titles))), kind="stable")
    favourite, next_best, disliked = ranked[:6], ranked[6:12], ranked[-6:]
    good = expected_play(play_probabilities(world, 0, [favourite], seen, 6))
    bad = expected_play(play_probabilities(world, 0, [disliked], seen, 6))
    assert good > bad
    # A second row repeating the first is worth less than one showing other good titles.
    repeated = expected_play(play_probabilities(world, 0, [favourite, favourite], seen, 6))
    fresh = expected_play(play_probabilities(world, 0, [favourite, next_best], seen, 6))
    assert repeated < fresh

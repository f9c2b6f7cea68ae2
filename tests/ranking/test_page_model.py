from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from artwork.domain import Interaction, Row, RowImpression, ScoredTitle, Title
from artwork.ranking.index import TitleIndex
from artwork.ranking.interactions import InteractionLog
from artwork.ranking.page_context import PageContext
from artwork.ranking.page_model import (
    FEATURE_NAMES,
    PageModel,
    PageState,
    RowBlock,
    examples_from_impressions,
    page_features,
)

from .conftest import NOW

INDEX = TitleIndex.from_titles(
    [Title(t, t, ("drama",) if t < "d" else ("comedy",)) for t in "abcdef"]
)
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def row(row_id: str, titles: str, score: float, source: str) -> Row:
    return Row(row_id, row_id, source, tuple(ScoredTitle(t, 1.0) for t in titles), score)


def test_page_features_describe_each_row_where_it_stands() -> None:
    rows = [
        row("r1", "abc", 0.9, "popularity"),
        row("r2", "abd", 0.8, "genre"),
        row("r3", "ef", 0.7, "genre"),
    ]
    context = PageContext(INDEX, np.array([0.0, 1.0]), first_screen_rows=2, first_screen_titles=3)
    x = page_features(rows, context)
    assert x.shape == (3, len(FEATURE_NAMES))
    assert x[:, COLUMN["position"]] == pytest.approx([1.0, 1 / np.log2(3), 0.5])
    assert x[:, COLUMN["first_screen"]].tolist() == [1.0, 1.0, 0.0]
    assert x[:, COLUMN["relevance"]].tolist() == [0.9, 0.8, 0.7]
    assert x[:, COLUMN["novelty"]] == pytest.approx([1.0, 1 / 3, 1.0])
    assert x[:, COLUMN["new_genres"]].tolist() == [1.0, 0.5, 0.0]
    assert x[:, COLUMN["repeat_source"]] == pytest.approx([0.0, 0.0, 1 / 3])
    assert x[:, COLUMN["affinity"]] == pytest.approx([1.0, 2 / 3, 0.0])
    assert x[0, COLUMN["source:popularity"]] == 1.0 and x[1, COLUMN["source:genre"]] == 1.0
    assert page_features([], context).shape == (0, len(FEATURE_NAMES))


def test_page_features_are_what_the_selector_sees_row_by_row(rng: np.random.Generator) -> None:
    # The whole-page computation against stepping through the page as a selector does.
    sources = ["popularity", "genre", "top_picks", "unknown-source"]
    for _ in range(30):
        rows = [
            row(
                f"r{i}",
                "".join(rng.choice(list("abcdefx"), size=rng.integers(0, 7))),
                float(rng.uniform()),
                str(rng.choice(sources)),
            )
            for i in range(int(rng.integers(1, 12)))
        ]
        context = PageContext(
            INDEX,
            rng.dirichlet([1.0, 1.0]),
            first_screen_rows=int(rng.integers(1, 5)),
            first_screen_titles=int(rng.integers(1, 6)),
        )
        block = RowBlock.build(rows, context)
        state = PageState(context, block)
        expected = np.zeros((len(rows), len(FEATURE_NAMES)))
        for i in range(len(rows)):
            expected[i] = state.features(np.array([i]))[0]
            state.place(block.visible[i], int(block.source[i]))
        assert np.array_equal(page_features(rows, context), expected)


def test_page_model_learns_the_direction_of_each_effect(rng: np.random.Generator) -> None:
    n = 4000
    x = np.zeros((n, len(FEATURE_NAMES)))
    x[:, COLUMN["novelty"]] = rng.uniform(size=n)
    x[:, COLUMN["position"]] = rng.uniform(0.2, 1.0, size=n)
    logit = -2.0 + 3.0 * x[:, COLUMN["novelty"]] + 2.0 * x[:, COLUMN["position"]]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = PageModel.fit(x, y)
    assert model.coef[COLUMN["novelty"]] == pytest.approx(3.0, abs=0.6)
    assert model.coef[COLUMN["position"]] == pytest.approx(2.0, abs=0.8)
    assert model.examples == n and model.positives == int(y.sum())
    again = PageModel.from_json(model.to_json())
    assert np.allclose(again.predict(x[:5]), model.predict(x[:5]))
    with pytest.raises(ValueError, match="both"):
        PageModel.fit(x, np.zeros(n))
    with pytest.raises(ValueError, match="columns"):
        PageModel.fit(x[:, :3], y)
    with pytest.raises(ValueError, match="page model"):
        PageModel.from_json('{"coef": []}')


def test_a_model_over_other_features_weighs_missing_ones_zero() -> None:
    model = PageModel(("novelty", "unknown"), np.array([2.0, 5.0]), 0.0)
    x = np.zeros((1, len(FEATURE_NAMES)))
    x[0, COLUMN["novelty"]] = 1.0
    assert model.logit(x).tolist() == [2.0]


def test_examples_credit_a_play_to_the_topmost_row_within_the_window() -> None:
    def shown(
        page: str, user: str, position: int, titles: str, minutes: float = 0
    ) -> RowImpression:
        features = {"novelty": float(position)}
        return RowImpression(
            page,
            NOW + timedelta(minutes=minutes),
            user,
            "stagewise",
            "v1",
            position,
            f"r{position}",
            "genre",
            0.5,
            tuple(titles),
            features,
        )

    impressions = [
        shown("p1", "u1", 0, "ab"),
        shown("p1", "u1", 1, "bc"),
        shown("p1", "u1", 2, "d"),
        shown("p2", "u2", 0, "a"),  # u2 plays 'a' a day later: outside the window
        shown("p3", "u3", 0, "e"),  # u3 never plays
    ]
    plays = InteractionLog.from_interactions(
        [
            Interaction("u1", "b", NOW + timedelta(minutes=5), 60.0),
            Interaction("u1", "d", NOW + timedelta(minutes=9), 60.0),
            Interaction("u1", "a", NOW - timedelta(days=1), 60.0),  # before the page
            Interaction("u2", "a", NOW + timedelta(days=1), 60.0),
        ],
        list("abcdef"),
    )
    x, y = examples_from_impressions(impressions, plays)
    assert y.tolist() == [1, 0, 1, 0, 0]
    assert x[:, COLUMN["novelty"]].tolist() == [0.0, 1.0, 2.0, 0.0, 0.0]

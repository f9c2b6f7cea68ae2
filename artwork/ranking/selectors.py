"""The three ways to choose and order rows.

- ``row_ranking``: every row on its own score; rows never see each other.
- ``stagewise``: greedy, one position at a time, each choice conditioned on the rows and titles
  already placed. On the first screen (the first N rows x M titles) a row's titles already
  shown are taken out, so no title appears twice there; rows adding genres not yet on the page
  are preferred, and rows from a source already used are discounted.
- ``learned``: the same greedy walk, scoring candidates with a page model fitted on logged
  homepages and the plays that followed (``artwork.ranking.page_model``). Without a fitted
  model it behaves as ``stagewise``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Row
from artwork.ranking.base import RowSelector
from artwork.ranking.page_context import PageContext
from artwork.ranking.page_model import FEATURE_NAMES, PageModel, PageState, RowBlock

# Weights of the stage-wise score: relevance discounted by titles already shown, plus genres
# the page lacks, minus repeats of a source.
STAGEWISE_NOVELTY = 0.5
STAGEWISE_NEW_GENRES = 0.3
STAGEWISE_REPEAT_SOURCE = 0.1


def _check(max_rows: int) -> None:
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")


class RowRankingSelector(RowSelector):
    """Rank rows independently by their own score (ties keep the sources' order)."""

    name = "row_ranking"

    def select(
        self, candidates: Sequence[Row], max_rows: int, context: PageContext | None = None
    ) -> list[Row]:
        _check(max_rows)
        order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].score, i))
        return [candidates[i] for i in order[:max_rows]]


class StagewiseSelector(RowSelector):
    """Greedy page construction with first-screen de-duplication and genre diversity."""

    name = "stagewise"

    def select(
        self, candidates: Sequence[Row], max_rows: int, context: PageContext | None = None
    ) -> list[Row]:
        _check(max_rows)
        if not candidates:
            return []
        context = context or PageContext.for_rows(candidates)
        block = RowBlock.build(candidates, context)
        state = PageState(context, block)
        alive = np.ones(len(candidates), dtype=bool)
        padding = block.titles.shape[1] - block.lengths
        needed = np.minimum(block.lengths, context.first_screen_titles)
        page: list[Row] = []
        while alive.any() and len(page) < max_rows:
            first_screen = state.on_first_screen
            scores = np.where(alive, self._scores(state), -np.inf)
            if first_screen:
                # A row must fill its visible part with titles not yet on the first screen.
                fresh = (~state.placed[block.titles]).sum(axis=1) - padding
                eligible = alive & (fresh >= needed) & (fresh > 0)
                if eligible.any():
                    scores = np.where(eligible, scores, -np.inf)
            chosen = int(np.argmax(scores))
            alive[chosen] = False
            row, visible = self._shown(block, chosen, state, first_screen)
            if not row.items:
                continue
            page.append(row)
            state.place(visible, int(block.source[chosen]))
        return page

    def _scores(self, state: PageState) -> NDArray[np.float64]:
        """Every candidate's score at the next position (higher is better)."""
        return (
            state.block.relevance * (1.0 - STAGEWISE_NOVELTY + STAGEWISE_NOVELTY * state.novelty())
            + STAGEWISE_NEW_GENRES * state.new_genres()
            - STAGEWISE_REPEAT_SOURCE * state.repeat_source()
        )

    def _shown(
        self, block: RowBlock, chosen: int, state: PageState, first_screen: bool
    ) -> tuple[Row, NDArray[np.int32]]:
        """The row as placed (first screen: without titles already there) and what shows first."""
        row = block.rows[chosen]
        titles = block.titles[chosen, : block.lengths[chosen]]
        if not first_screen:
            return row, block.visible[chosen]
        keep = ~state.placed[titles]
        if keep.all():
            return row, block.visible[chosen]
        kept = titles[keep]
        items = tuple(item for item, k in zip(row.items, keep.tolist(), strict=True) if k)
        return replace(row, items=items), kept[: block.visible.shape[1]]


class LearnedPageSelector(RowSelector):
    """Greedy page construction scored by a fitted page model: at each position, the row with
    the highest predicted chance of a play given what is already above it.

    Args:
        model: the page model; without one, pages are built as ``stagewise`` builds them.
    """

    name = "learned"

    def __init__(self, model: PageModel | None = None) -> None:
        self.model = model
        self._fallback = StagewiseSelector()

    def select(
        self, candidates: Sequence[Row], max_rows: int, context: PageContext | None = None
    ) -> list[Row]:
        if self.model is None:
            return self._fallback.select(candidates, max_rows, context)
        _check(max_rows)
        if not candidates:
            return []
        context = context or PageContext.for_rows(candidates)
        block = RowBlock.build(candidates, context)
        state = PageState(context, block)
        coef = self.model.aligned_coef
        weight = {name: float(coef[i]) for i, name in enumerate(FEATURE_NAMES)}
        static_logit = state.static @ coef + self.model.intercept
        # Ties (e.g. identical rows) go to the more relevant, then the earlier, candidate.
        tie = 1e-9 * block.relevance - 1e-12 * np.arange(len(candidates))
        alive = np.ones(len(candidates), dtype=bool)
        page: list[Row] = []
        while alive.any() and len(page) < max_rows:
            logit = static_logit + tie
            for name, value in state.dynamic().items():
                if weight[name]:
                    logit = logit + weight[name] * value
            chosen = int(np.argmax(np.where(alive, logit, -np.inf)))
            alive[chosen] = False
            page.append(block.rows[chosen])
            state.place(block.visible[chosen], int(block.source[chosen]))
        return page


ROW_SELECTOR_CLASSES: tuple[type[RowSelector], ...] = (
    RowRankingSelector,
    StagewiseSelector,
    LearnedPageSelector,
)
"""Every row selector; :mod:`artwork.ranking.registry` keys them by name."""

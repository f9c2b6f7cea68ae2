"""Interfaces of the ranking core: rankers score titles, row sources turn them into candidate
rows, a row selector picks and orders rows into a page.

Rankers are fitted on a ``RankingData`` snapshot (:mod:`artwork.ranking.data`) and score the
titles of its ``TitleIndex`` (:mod:`artwork.ranking.index`) for a ``Member``, one member's
history over that index. Rankers keep no per-member state (the personalised ones are item-item
models), so a fitted ranker serves a member from their current history, including a member it
never saw. Row sources and selectors get what one page shares from
:mod:`artwork.ranking.page_context`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Row, ScoredTitle
from artwork.ranking.data import RankingData
from artwork.ranking.index import Scores, TitleIndex, top_k
from artwork.ranking.interactions import Member
from artwork.ranking.page_context import PageContext, PageRequest


class Ranker(ABC):
    """Scores every title for a member. Fitted once per data snapshot, then queried per request.

    Subclasses implement ``_fit`` and ``scores``; those with learned arrays also implement
    ``get_state``/``load_state`` so a trained ranker can be saved and served elsewhere.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self.index: TitleIndex | None = None
        self._data: RankingData | None = None

    def fit(self, data: RankingData) -> None:
        """Learn whatever the ranker needs from ``data``."""
        self._fit(data)
        self.index = data.index
        self._data = data

    @abstractmethod
    def _fit(self, data: RankingData) -> None:
        """Learn from ``data`` (``data.index`` is the title index)."""

    @abstractmethod
    def scores(self, member: Member) -> Scores:
        """One score per title of the fitted index for ``member``; higher is better."""

    def top(
        self, member: Member, k: int, exclude: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        """The member's ``k`` best title indices and their scores, best first."""
        return top_k(self.scores(member), k, exclude)

    def rank(
        self, member: Member | str, k: int, *, exclude_seen: bool = False
    ) -> list[ScoredTitle]:
        """The member's top ``k`` titles, best first (fewer if fewer qualify).

        Args:
            member: a ``Member``, or a member id looked up in the data the ranker was fitted on.
            k: how many titles at most.
            exclude_seen: leave out titles the member has watched.

        Raises:
            RuntimeError: the ranker is not fitted, or was loaded without data and given an id.
        """
        index = self.require_index()
        if isinstance(member, str):
            if self._data is None:
                raise RuntimeError(f"{type(self).__name__}.rank needs a Member when loaded")
            member = self._data.member(member)
        exclude = member.seen_mask(len(index)) if exclude_seen else None
        chosen, values = self.top(member, k, exclude)
        return [
            ScoredTitle(index.title_ids[i], float(v)) for i, v in zip(chosen, values, strict=True)
        ]

    def require_index(self) -> TitleIndex:
        """The fitted title index.

        Raises:
            RuntimeError: neither ``fit`` nor ``load_state`` was called.
        """
        if self.index is None:
            raise RuntimeError(f"{type(self).__name__} used before fit")
        return self.index

    def get_state(self) -> dict[str, NDArray[Any]]:
        """The fitted arrays, to save (stateless rankers return none)."""
        return {}

    def load_state(self, index: TitleIndex, state: Mapping[str, NDArray[Any]]) -> None:
        """Restore what ``get_state`` returned, over ``index``."""
        self.index = index
        self._data = None


class RowSource(ABC):
    """Makes zero or more candidate rows for a member (a genre source makes one per genre)."""

    name: ClassVar[str]

    @abstractmethod
    def rows(self, request: PageRequest, k: int) -> list[Row]:
        """Candidate rows of up to ``k`` titles each, each with a relevance ``score``."""


class RowSelector(ABC):
    """Chooses which candidate rows make the page, and in which order."""

    name: ClassVar[str]

    @abstractmethod
    def select(
        self, candidates: Sequence[Row], max_rows: int, context: PageContext | None = None
    ) -> list[Row]:
        """At most ``max_rows`` rows in page order.

        Args:
            candidates: rows from every source, in the sources' order.
            max_rows: page length.
            context: genres, first-screen size and member affinity; selectors that need
                them build a minimal one from the rows when absent.

        Raises:
            ValueError: ``max_rows`` < 1.
        """

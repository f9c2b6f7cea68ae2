"""Interfaces of the ranking core: rankers score titles, row sources turn them into candidate
rows, a row selector picks and orders rows into a page.

``RankingData`` is the immutable snapshot every ranker is fitted on, so a page is always built
from one consistent view of the catalogue and its interactions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import ClassVar

from artwork.domain import Interaction, Row, ScoredTitle, Title


@dataclass(frozen=True)
class RankingData:
    """Titles and interactions as of ``now``."""

    titles: Mapping[str, Title]
    interactions: Sequence[Interaction]
    now: datetime

    @cached_property
    def by_user(self) -> Mapping[str, Sequence[Interaction]]:
        """Each member's interactions, oldest first."""
        grouped: dict[str, list[Interaction]] = defaultdict(list)
        for item in self.interactions:
            grouped[item.user_id].append(item)
        return grouped


class Ranker(ABC):
    """Scores titles for a member. Fitted once per data snapshot, then queried per request."""

    name: ClassVar[str]

    @abstractmethod
    def fit(self, data: RankingData) -> None:
        """Learn whatever the ranker needs from ``data``."""

    @abstractmethod
    def rank(self, user_id: str, k: int) -> list[ScoredTitle]:
        """The member's top ``k`` titles, best first (fewer if fewer qualify)."""


class RowSource(ABC):
    """Makes zero or more candidate rows for a member (a genre source makes one per genre)."""

    name: ClassVar[str]

    @abstractmethod
    def fit(self, data: RankingData) -> None:
        """Fit the rankers behind the rows."""

    @abstractmethod
    def rows(self, user_id: str, k: int) -> list[Row]:
        """Candidate rows of up to ``k`` titles each, each with a relevance ``score``."""


class RowSelector(ABC):
    """Chooses which candidate rows make the page, and in which order."""

    name: ClassVar[str]

    @abstractmethod
    def select(self, candidates: Sequence[Row], max_rows: int) -> list[Row]:
        """At most ``max_rows`` rows in page order."""

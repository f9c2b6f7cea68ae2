"""``RankingData``: the immutable snapshot of titles, plays and content vectors rankers are
fitted on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Interaction, Title
from artwork.ranking.index import TitleIndex
from artwork.ranking.interactions import InteractionLog, Member


@dataclass(frozen=True)
class RankingData:
    """Titles, interactions and content vectors as of ``now``: what rankers are fitted on.

    Attributes:
        titles: the catalogue by title id; its order is the title index.
        interactions: plays, as objects or as columns.
        now: the moment the snapshot describes (timezone-aware); trending decays from it.
        content: content vectors by title id (see ``artwork.ranking.content``).
    """

    titles: Mapping[str, Title]
    interactions: Sequence[Interaction] | InteractionLog
    now: datetime
    content: Mapping[str, NDArray[np.floating]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")

    @cached_property
    def index(self) -> TitleIndex:
        """The title index, in the order of ``titles``."""
        return TitleIndex.from_titles(list(self.titles.values()), self.content)

    @cached_property
    def log(self) -> InteractionLog:
        """The interactions as columns over ``index`` (plays of unknown titles dropped)."""
        ids = self.index.title_ids
        if isinstance(self.interactions, InteractionLog):
            return self.interactions.reindex_titles(ids)
        return InteractionLog.from_interactions(self.interactions, ids)

    @cached_property
    def by_user(self) -> Mapping[str, Sequence[Interaction]]:
        """Each member's interactions, oldest first."""
        grouped: dict[str, list[Interaction]] = defaultdict(list)
        for item in self.interactions:
            grouped[item.user_id].append(item)
        return grouped

    def member(self, user_id: str) -> Member:
        """A member's history in this snapshot (empty for an unknown member)."""
        log = self.log
        u = log.user_index.get(user_id)
        if u is None:
            return Member.cold(user_id)
        rows = log.plays_of(u)
        return Member.from_plays(
            user_id,
            log.title[rows],
            log.timestamp[rows],
            log.seconds[rows],
            self.index.duration,
            log.duration[rows],
        )

"""Page assembly: candidate rows from every row source, chosen and ordered by a row selector.

A ``PageBuilder`` serves from one ``RankingModel``: fitted here from a ``RankingData`` snapshot
(``fit``), or trained elsewhere and loaded (``use``). Building a page reads only the model and
the member's own history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from artwork.domain import Homepage, Row, Title
from artwork.ranking.base import RowSelector, RowSource
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.interactions import Member
from artwork.ranking.model import RankingModel
from artwork.ranking.page_context import PageContext, PageRequest
from artwork.ranking.registry import ROW_SELECTORS, ROW_SOURCES, make_row_source
from artwork.ranking.selectors import LearnedPageSelector, RowRankingSelector

__all__ = ["PageBuilder", "PagePlan", "RowRankingSelector"]


@dataclass(frozen=True, eq=False)
class PagePlan:
    """A built page with what its selector knew (to log its features) and the selector used."""

    homepage: Homepage
    context: PageContext
    selector: str


class PageBuilder:
    """Builds members' homepages from one fitted ranking model.

    Args:
        sources: row sources; default: every registered one.
        selector: the default row selector, an instance or a registry name; default: the
            config's. Every registered selector can still be asked for per page.
        row_size: titles per row; default: the config's.
        max_rows: rows per page; default: the config's.
        config: hyperparameters; default: ``RankingConfig()``.

    Raises:
        ValueError: a size is < 1 or a selector name is unknown (named in the message).
    """

    def __init__(
        self,
        sources: Sequence[RowSource] | None = None,
        selector: RowSelector | str | None = None,
        *,
        row_size: int | None = None,
        max_rows: int | None = None,
        config: RankingConfig | None = None,
    ) -> None:
        self.config = config or RankingConfig()
        self.row_size = self.config.row_size if row_size is None else row_size
        self.max_rows = self.config.page_rows if max_rows is None else max_rows
        if self.row_size < 1:
            raise ValueError(f"row_size must be >= 1, got {self.row_size}")
        if self.max_rows < 1:
            raise ValueError(f"max_rows must be >= 1, got {self.max_rows}")
        self.sources = (
            list(sources)
            if sources is not None
            else [make_row_source(name, self.config) for name in ROW_SOURCES]
        )
        self.selectors: dict[str, RowSelector] = {n: c() for n, c in ROW_SELECTORS.items()}
        if isinstance(selector, RowSelector):
            self.selectors[selector.name] = selector
            self.selector = selector
        else:
            self.selector = self._selector(selector or self.config.selector)
        self.model: RankingModel | None = None
        self.data: RankingData | None = None

    def fit(self, data: RankingData) -> PageBuilder:
        """Fit a ranking model on ``data`` and serve from it."""
        self.use(RankingModel.fit(data, self.config))
        self.data = data
        return self

    def use(self, model: RankingModel) -> PageBuilder:
        """Serve from an already fitted ``model`` (its page model drives ``learned``)."""
        self.model = model
        self.data = None
        self.__dict__.pop("titles", None)
        learned = self.selectors.get(LearnedPageSelector.name)
        if isinstance(learned, LearnedPageSelector):
            learned.model = model.page_model
        return self

    @cached_property
    def titles(self) -> Mapping[str, Title]:
        """The titles the model knows, by id."""
        model = self._require_model()
        if self.data is not None:
            return self.data.titles
        index = model.index
        return {index.title_ids[i]: index.title(i) for i in range(len(index))}

    def build(self, member: Member | str, selector: str | None = None) -> Homepage:
        """The member's page: at most ``max_rows`` non-empty rows of at most ``row_size`` titles.

        Args:
            member: a ``Member`` over the model's title index, or a member id (looked up in
                the data the builder was fitted on; unknown members are new members).
            selector: a registered selector's name; default: the builder's selector.

        Raises:
            RuntimeError: neither ``fit`` nor ``use`` was called.
            ValueError: ``selector`` names no registered selector.
        """
        return self.plan(member, selector).homepage

    def plan(self, member: Member | str, selector: str | None = None) -> PagePlan:
        """Like ``build``, also returning what the selector knew (for logging features)."""
        model = self._require_model()
        chosen = self.selector if selector is None else self._selector(selector)
        if isinstance(member, str):
            member = self.data.member(member) if self.data is not None else Member.cold(member)
        request = PageRequest(member, model.index, model.rankers)
        candidates: list[Row] = [
            row for source in self.sources for row in source.rows(request, self.row_size)
        ]
        context = PageContext(
            model.index,
            request.genre_affinity,
            first_screen_rows=self.config.first_screen_rows,
            first_screen_titles=self.config.first_screen_titles,
            row_titles=request.row_titles,
        )
        rows = chosen.select(candidates, self.max_rows, context)
        return PagePlan(Homepage(member.user_id, tuple(rows)), context, chosen.name)

    def _require_model(self) -> RankingModel:
        if self.model is None:
            raise RuntimeError("PageBuilder.build called before fit (or use)")
        return self.model

    def _selector(self, name: str) -> RowSelector:
        if name not in self.selectors:
            raise ValueError(f"selector must be one of {sorted(self.selectors)}, got {name!r}")
        return self.selectors[name]

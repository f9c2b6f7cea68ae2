"""The artwork layer around the ranking core: a page of rows, each title with the variant the
bandit chose for this member and context, and the decision's event id for the reward.

The page builder is fitted on a snapshot of the catalogue and refitted when titles or
interactions change; a title with no approved variant cannot be shown and is left off the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from artwork.bandit.service import ArtworkBandit
from artwork.catalog.repository import Catalog
from artwork.domain import Context, Decision, Row, Title, Variant, VariantStatus
from artwork.errors import VariantNotFoundError
from artwork.ranking.base import RankingData
from artwork.ranking.page import PageBuilder


@dataclass(frozen=True, slots=True)
class ArtworkChoice:
    title: Title
    variant: Variant
    decision: Decision


@dataclass(frozen=True, slots=True)
class ArtworkRow:
    row: Row
    items: tuple[ArtworkChoice, ...]


@dataclass(frozen=True, slots=True)
class ArtworkPage:
    user_id: str
    rows: tuple[ArtworkRow, ...]


def make_context(
    user_id: str, device: str = "unknown", country: str = "unknown", now: datetime | None = None
) -> Context:
    """The bandit context of a request: member, device, country and the time of day (UTC)."""
    if not user_id:
        raise ValueError("user_id must not be empty")
    moment = now or datetime.now(UTC)
    return Context(user_id, device, moment.hour, moment.weekday(), country)


class HomepageService:
    """Builds artwork-annotated pages and single-title artwork choices."""

    def __init__(
        self,
        catalog: Catalog,
        bandit: ArtworkBandit,
        page_builder_factory: Callable[[], PageBuilder] = PageBuilder,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.catalog = catalog
        self.bandit = bandit
        self._factory = page_builder_factory
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._builder: PageBuilder | None = None
        self._fitted_on: tuple[int, int] | None = None

    def page(self, context: Context) -> ArtworkPage:
        """The member's homepage, each title annotated with a logged artwork decision."""
        builder = self._current_builder()
        homepage = builder.build(context.user_id)
        title_ids = [item.title_id for row in homepage.rows for item in row.items]
        approved = self.catalog.variants_for(title_ids, VariantStatus.APPROVED)
        assert builder.data is not None
        titles = builder.data.titles
        # One decision per title per page: a title in two rows shows the same artwork.
        chosen: dict[str, ArtworkChoice] = {}
        rows = []
        for row in homepage.rows:
            items = []
            for item in row.items:
                variants = approved.get(item.title_id)
                if not variants:
                    continue
                if item.title_id not in chosen:
                    decision = self.bandit.choose(context, item.title_id, variants)
                    variant = next(
                        v for v in variants if v.variant_id == decision.chosen_variant_id
                    )
                    chosen[item.title_id] = ArtworkChoice(titles[item.title_id], variant, decision)
                items.append(chosen[item.title_id])
            if items:
                rows.append(ArtworkRow(row, tuple(items)))
        return ArtworkPage(context.user_id, tuple(rows))

    def title_artwork(self, context: Context, title_id: str) -> ArtworkChoice:
        """The artwork of one title for this member, as a logged decision.

        Raises:
            TitleNotFoundError: no such title.
            VariantNotFoundError: the title has no approved variant yet.
        """
        title = self.catalog.get_title(title_id)
        variants = self.catalog.variants(title_id, VariantStatus.APPROVED)
        if not variants:
            raise VariantNotFoundError(
                f"title {title_id!r} has no approved artwork yet; approve a variant with "
                "`artwork variants approve VARIANT_ID`"
            )
        decision = self.bandit.choose(context, title_id, variants)
        variant = next(v for v in variants if v.variant_id == decision.chosen_variant_id)
        return ArtworkChoice(title, variant, decision)

    def _current_builder(self) -> PageBuilder:
        version = (self.catalog.count_titles(), self.catalog.count_interactions())
        with self._lock:
            if self._builder is None or self._fitted_on != version:
                data = RankingData(
                    titles={t.title_id: t for t in self.catalog.list_titles()},
                    interactions=self.catalog.interactions(),
                    now=self._clock(),
                )
                self._builder = self._factory().fit(data)
                self._fitted_on = version
            return self._builder
